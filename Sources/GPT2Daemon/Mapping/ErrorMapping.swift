// ErrorMapping — an engine error becomes the wire error users see: the same message and field, the
// code of the same meaning (PROTOCOL.md §error codes).
import GPT2Wire

extension WireErrorCode {
    init(_ code: EngineError.Code) {
        switch code {
        case .invalidField: self = .invalidField
        case .unknownModel: self = .unknownModel
        case .unknownSession: self = .unknownSession
        case .sessionForbidden: self = .sessionForbidden
        case .sessionBusy: self = .sessionBusy
        case .contextOverflow: self = .contextOverflow
        case .unsupportedTask: self = .unsupportedTask
        case .overloaded: self = .overloaded
        case .cancelled: self = .cancelled
        case .modelUnavailable: self = .modelUnavailable
        case .tooLarge: self = .tooLarge
        case .storageUnavailable: self = .storageUnavailable
        case .quotaExceeded: self = .quotaExceeded
        case .modelExists: self = .modelExists
        case .modelLoadFailed: self = .modelLoadFailed
        case .shuttingDown: self = .shuttingDown
        case .internalError: self = .internalError
        }
    }
}

extension WireError {
    init(_ e: EngineError) { self.init(WireErrorCode(e.code), e.message, field: e.field) }
}

/// Runs an engine call from a handler: an `EngineError` it throws leaves as the `WireError` above.
func mappingErrors<T>(_ body: () throws(EngineError) -> T) throws(WireError) -> T {
    do { return try body() } catch { throw WireError(error) }
}
