// SessionTable — the store's sessions by id, with an index by owner, so what one principal asks
// about its own sessions (its count against max_sessions_per_user, its token quota, a name, its
// list, its best cached prefix) costs that principal's sessions, not every user's. The store's
// lock guards it like the rest of the store.

extension SessionStore {
    struct SessionTable {
        private var byID: [String: Session] = [:]
        private var byOwner: [Principal: [String: Session]] = [:]

        /// Get: the session `id`. Set: add (or replace) it, remove it with nil; the index follows.
        subscript(id: String) -> Session? {
            get { byID[id] }
            set {
                if let old = byID[id] {
                    byOwner[old.owner]?[id] = nil
                    if byOwner[old.owner]?.isEmpty == true { byOwner[old.owner] = nil }
                }
                byID[id] = newValue
                if let s = newValue { byOwner[s.owner, default: [:]][id] = s }
            }
        }

        var count: Int { byID.count }
        /// Every session, in no order.
        var values: Dictionary<String, Session>.Values { byID.values }

        /// `owner`'s sessions, in no order.
        func owned(by owner: Principal) -> Dictionary<String, Session>.Values {
            (byOwner[owner] ?? [:]).values
        }
    }
}
