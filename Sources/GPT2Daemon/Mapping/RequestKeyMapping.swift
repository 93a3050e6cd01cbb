// RequestKeyMapping — the JSON-lines client's request id becomes the engine's `JobKey` tag. The tag
// keeps the id's kind, so `7`, `7.0` and `"7"` stay three different requests, as `RequestID`'s
// equality says (a double by its bit pattern: exact, whatever its printed form).
import GPT2Wire

extension JobKey {
    init(connection: UInt64, id: RequestID?) {
        let tag: String?
        switch id {
        case nil: tag = nil
        case .string(let s)?: tag = "s:" + s
        case .int(let i)?: tag = "i:\(i)"
        case .double(let d)?: tag = "d:\((d == 0 ? 0 : d).bitPattern)"  // 0.0 and -0.0 are one id
        }
        self.init(connection: connection, tag: tag)
    }
}
