// Engine+UserStats — one principal's own counters, for a `stats` asked by a user who may not see
// the daemon's totals (Server/StatsAccess.swift decides who may).
extension Engine {
    /// What the engine counts for `principal` alone.
    public struct UserStats: Sendable, Equatable {
        /// Its requests queued or running now (a task request counts until its last window ends).
        public var requestsActive: Int
        /// Its jobs waiting for the compute thread.
        public var queueDepth: Int
        public var promptTokensTotal: Int
        public var completionTokensTotal: Int
        public var cachedTokensTotal: Int
        /// Its open sessions.
        public var sessions: Int
    }

    /// The counters of `principal`'s own work.
    public func stats(of principal: Principal) -> UserStats {
        cond.lock()
        let load = userLoads.load(of: principal), totals = userLoads.totals(of: principal)
        let queued = inbox.reduce(0) { $0 + ($1.client.principal == principal ? 1 : 0) }
        cond.unlock()
        return UserStats(requestsActive: load.requests, queueDepth: queued, promptTokensTotal: totals.promptTokens,
                         completionTokensTotal: totals.completionTokens, cachedTokensTotal: totals.cachedTokens,
                         sessions: sessions.count(owner: principal))
    }
}
