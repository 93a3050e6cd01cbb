// UserText — how much of a user-supplied value an error message or log line may quote.
//
// A value from a file or a request (a token string, a merges line, a config value, a JSON value, a
// dtype, a tensor name) can be arbitrarily long; messages quote at most `limit` bytes of it (default
// 200), cut at a Unicode scalar boundary (still valid UTF-8) and followed by "…(N bytes)" with the
// value's full UTF-8 length, so one line never carries more than a few hundred bytes of user data
// however large the input.

public enum UserText {
    /// Bytes of one value a message quotes.
    public static let defaultLimit = 200
    /// Bytes of a composed reason quoted whole (it may hold one value already clipped to
    /// `defaultLimit`, whose "…(N bytes)" then survives).
    public static let reasonLimit = 400

    /// `value` when it is at most `limit` UTF-8 bytes, else its longest prefix of whole scalars
    /// within `limit` bytes + "…(N bytes)".
    public static func clip(_ value: String, limit: Int = defaultLimit) -> String {
        guard let (head, total) = cut(value, limit: limit) else { return value }
        return head + "…(\(total) bytes)"
    }

    /// Swift's quoted rendering (`String(reflecting:)`) of `clip`'s prefix, then "…(N bytes)": for
    /// values shown in quotes. Escapes apply to the prefix only (at most 6 × `limit` bytes for
    /// control characters, `limit` plus a few for text).
    public static func quoted(_ value: String, limit: Int = defaultLimit) -> String {
        guard let (head, total) = cut(value, limit: limit) else { return String(reflecting: value) }
        return String(reflecting: head) + "…(\(total) bytes)"
    }

    /// The prefix within `limit` bytes and the full length; nil when `value` fits.
    private static func cut(_ value: String, limit: Int) -> (String, Int)? {
        let total = value.utf8.count
        guard total > limit else { return nil }
        var scalars = String.UnicodeScalarView()
        var used = 0
        for s in value.unicodeScalars {
            let width = UTF8.width(s)
            if used + width > limit { break }
            used += width
            scalars.append(s)
        }
        return (String(scalars), total)
    }
}
