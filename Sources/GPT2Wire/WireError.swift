// WireError — the error codes of protocol v1 and the error value carried on an "error" line.

import GPT2Bounds
import GPT2JSON

/// Stable error codes. The raw values are the wire strings; never rename one, only add.
public enum WireErrorCode: String, Sendable, Equatable, CaseIterable {
    /// The line is not valid JSON.
    case parseError = "parse_error"
    /// The line is not valid UTF-8.
    case invalidUTF8 = "invalid_utf8"
    /// The line is longer than the daemon's limit; the rest of it was discarded.
    case lineTooLong = "line_too_long"
    /// The line is JSON but not a request: not an object, or "op" missing / not a string, or "id" of a bad type.
    case invalidRequest = "invalid_request"
    /// "op" names no operation of this protocol version.
    case unknownOp = "unknown_op"
    /// A field has the wrong type or is out of range; the message names the field and what was expected.
    case invalidField = "invalid_field"
    /// A required field is absent (or null).
    case missingField = "missing_field"
    /// "model" names no loaded model.
    case unknownModel = "unknown_model"
    /// "session" names no open session (never opened, closed, or evicted).
    case unknownSession = "unknown_session"
    /// The session belongs to another Unix user.
    case sessionForbidden = "session_forbidden"
    /// The session is in use by another request.
    case sessionBusy = "session_busy"
    /// The prompt (plus session history and max_new_tokens) exceeds the model's n_positions.
    case contextOverflow = "context_overflow"
    /// The model cannot serve this op's task (e.g. no classification head).
    case unsupportedTask = "unsupported_task"
    /// Too many requests queued; retry later.
    case overloaded = "overloaded"
    /// The request was cancelled (by `cancel`, or because the daemon gave up on it).
    case cancelled = "cancelled"
    /// The daemon is stopping and accepts no new work.
    case shuttingDown = "shutting_down"
    /// A bug or an unexpected failure inside the daemon.
    case internalError = "internal_error"
    /// The model's weight file was truncated or overwritten in place; the model serves again once the
    /// file is whole (or after a SIGHUP that finds it whole). Also while a model is being loaded or
    /// unloaded (`models.load`, `models.unload`, SIGHUP), and for a request still running when its
    /// model's unload drain time ran out. Other models are unaffected.
    case modelUnavailable = "model_unavailable"
    /// The request's total work (forward rows over all its windows and sequences) exceeds the
    /// per-request limit (`max_request_rows`); `field` names the input that makes it that large.
    case tooLarge = "too_large"
    /// The asking Unix user may not see what the op answers (`metrics`: the daemon's totals, for root
    /// and members of `admin_group` only, as in `stats`), or may not do what it asks (`models.load`,
    /// `models.unload`: root and `admin_group` only).
    case forbidden = "forbidden"
    /// The session change could not be written to the state folder (full, read-only, unusable), so it
    /// was not made; requests that change no session are unaffected. Retry once there is room.
    case storageUnavailable = "storage_unavailable"
    /// The request would take the asking user's sessions past one of its quotas (stored tokens:
    /// `max_session_tokens_per_user`); nothing was changed. Waiting does not help: close or shorten
    /// sessions first.
    case quotaExceeded = "quota_exceeded"
    /// `models.load`: a model of that name is already served (or being loaded or unloaded).
    case modelExists = "model_exists"
    /// `models.load`: the directory could not be loaded as a model (the checkpoint loader's or
    /// tokenizer's error is the message; `field` is "directory").
    case modelLoadFailed = "model_load_failed"
}

/// An error as it travels on the wire: `{"code": "...", "message": "...", "field": "..."}`.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: WireErrorCode
    public var message: String
    /// The request field at fault, for `invalid_field` / `missing_field` (and `unknown_model`/`unknown_session`).
    public var field: String?

    /// `message` may quote request values (a model name, a session id): it is clipped to
    /// `maxMessageBytes` (UserText), so an error line stays small whatever the request held.
    public init(_ code: WireErrorCode, _ message: String, field: String? = nil) {
        self.code = code
        self.message = UserText.clip(message, limit: Self.maxMessageBytes)
        self.field = field
    }

    /// Bytes of `message` kept (longer ones end in "…(N bytes)").
    public static let maxMessageBytes = 1024

    public var description: String { "\(code.rawValue): \(message)" }

    /// `invalid_field`: "field 'top_p': expected a number in (0, 1], got 1.5".
    public static func invalidField(_ field: String, expected: String, got value: JSON?) -> WireError {
        var m = "field '\(field)': expected \(expected)"
        if let value { m += ", got \(Self.describe(value))" }
        return WireError(.invalidField, m, field: field)
    }

    /// `missing_field`: "missing required field 'model'".
    public static func missingField(_ field: String) -> WireError {
        WireError(.missingField, "missing required field '\(field)'", field: field)
    }

    /// A short rendering of an offending value for messages (long values are cut).
    static func describe(_ v: JSON) -> String {
        switch v {
        case .array, .object: return v.typeName
        default:
            let s = v.serialized()
            return s.count > 40 ? String(s.prefix(40)) + "..." : s
        }
    }

    // MARK: JSON

    public func json() -> JSONObject {
        var o: JSONObject = ["code": .string(code.rawValue), "message": .string(message)]
        if let field { o["field"] = .string(field) }
        return o
    }

    /// Decodes an error object. An unknown code (from a newer daemon) becomes `internal_error` with the
    /// original code kept in the message.
    public init(from o: JSONObject) throws(WireError) {
        let r = FieldReader(o)
        let raw = try r.required("code", .string)
        let message = try r.optional("message", .string) ?? ""
        if let code = WireErrorCode(rawValue: raw) {
            self.init(code, message, field: try r.optional("field", .string))
        } else {
            self.init(.internalError, "\(raw): \(message)", field: try r.optional("field", .string))
        }
    }
}

extension WireCodec where Value == WireError {
    /// An error object (see `WireError.init(from:)`).
    static var wireError: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let o = v.objectValue else { throw .invalidField(f, expected: "an object", got: v) }
            return try WireError(from: o)
        }, write: { .object($0.json()) })
    }
}
