// Listener — one transport the daemon answers on. The JSON-lines Unix socket (`Server/UnixServer`)
// is one; a second transport (HTTP) is a new folder with a type conforming to this and one more entry
// in the daemon's list of listeners (Daemon.start), not a change to the engine: listeners decode
// their requests, map them to engine requests (Mapping/), name the caller's `Principal` in its
// `ClientIdentity`, and map and encode the engine's typed events (`EngineEvent`) themselves.
//
// Lifecycle, in the order the daemon's services drive it (Lifecycle/ListenerServices.swift): `run()`
// (accepts until `stopAccepting()`, returns once every connection has closed) · `stopAccepting()` when
// shutdown begins (the listener also starts telling clients it is shutting down) · after the engine
// drained, `closeWhenIdle()`, and `closeNow()` if connections outlive the grace period · `shutdown()`
// once `run()` returned (releases the listener's threads).
public protocol Listener: AnyObject, Sendable {
    /// Accepts and serves connections until `stopAccepting()`, then until every connection has closed.
    func run() async
    /// Stops accepting new connections (shutdown began); open ones stay.
    func stopAccepting() async
    /// Asks every connection to close once its in-flight requests are answered.
    func closeWhenIdle()
    /// Closes every connection now (what is already queued is still written).
    func closeNow()
    /// Releases the listener's threads; call after `run()` returned.
    func shutdown() async
    /// Connections open now.
    var openConnections: Int { get }
}
