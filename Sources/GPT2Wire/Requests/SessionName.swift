// SessionName — the codecs of the fields that name and time a session (session.open, session.fork):
//   name            1 … 128 bytes of UTF-8 without control characters (no U+0000–U+001F, U+007F–U+009F);
//                   compared byte for byte (no case folding or normalization).
//   idle_timeout_s  a number > 0, seconds (the daemon refuses more than its session_idle_timeout_s).

import GPT2JSON

public enum SessionName {
    /// Longest name, in UTF-8 bytes.
    public static let maxBytes = 128

    /// Whether `name` is a valid session name.
    public static func isValid(_ name: String) -> Bool {
        let bytes = name.utf8.count
        guard bytes >= 1 && bytes <= maxBytes else { return false }
        return !name.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }
}

extension WireCodec where Value == String {
    /// A session name (`SessionName.isValid`).
    public static var sessionName: WireCodec {
        WireCodec(read: { v, f throws(WireError) in
            guard let s = v.stringValue, SessionName.isValid(s) else {
                throw .invalidField(f, expected: "a string of 1 to \(SessionName.maxBytes) UTF-8 bytes without control characters", got: v)
            }
            return s
        }, write: { .string($0) })
    }
}

extension WireCodec where Value == Double {
    /// A session's idle time-out in seconds: a number > 0.
    public static var idleTimeout: WireCodec { number("a number > 0") { $0 > 0 } }
}
