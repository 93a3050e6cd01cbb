// PrincipalKey — how the state database names a session's owner (column `owner`, schema v2):
//   "uid:<decimal uid>"   a Unix user (Principal.unixUser)
//   "token:<name>"        a bearer token's principal (Principal.token; names are 1–64 of letters,
//                         digits, `.`, `_`, `-`, `@`: BearerTokens.swift)
// Anything else is not a key (a row carrying it is dropped as damaged).

extension Principal {
    /// The owner key stored for this principal.
    var storageKey: String {
        switch self {
        case .unixUser(let uid): return "uid:\(uid)"
        case .token(let name): return "token:\(name)"
        }
    }

    /// The principal a stored owner key names; nil when `key` is not one.
    init?(storageKey key: String) {
        if key.hasPrefix("uid:"), let uid = UInt32(key.dropFirst(4)), String(uid) == key.dropFirst(4) {
            self = .unixUser(uid: uid)
        } else if key.hasPrefix("token:"), key.count > 6 {
            self = .token(name: String(key.dropFirst(6)))
        } else {
            return nil
        }
    }
}
