// SessionJournal — the one writer of the state database: its own thread, never the compute thread or an
// event loop.
//
// The session store hands it each change (`submit`, non-blocking: an append under a lock) and gets a
// WriteTicket back; whoever must not acknowledge before the change is on disk waits on the ticket
// (`whenDone`, a callback — nothing blocks). The writer takes every change queued so far and commits
// them in ONE transaction (group commit: one fsync for all the sessions that finished meanwhile), then
// completes their tickets — on the writer thread, so a ticket's callback only hands a reply on.
// A failed batch is retried change by change, so one bad change cannot fail its neighbours; a
// change that still fails (a full disk, a read-only folder) completes its ticket with
// `storage_unavailable`. Without a database (the folder could not be opened) every change fails so.
import Foundation
import Logging

/// The outcome of one submitted change, once the writer has tried it.
final class WriteTicket: @unchecked Sendable {
    private let lock = NSLock()
    /// nil while pending; .some(nil) written; .some(error) failed.
    private var outcome: EngineError?? = nil
    private var waiters: [@Sendable (EngineError?) -> Void] = []

    /// Runs `body` with the outcome: now when known, else on the writer thread when it is.
    func whenDone(_ body: @escaping @Sendable (EngineError?) -> Void) {
        lock.lock()
        if let o = outcome { lock.unlock(); body(o); return }
        waiters.append(body)
        lock.unlock()
    }

    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return outcome != nil }
    var failure: EngineError? { lock.lock(); defer { lock.unlock() }; return outcome ?? nil }

    func complete(_ error: EngineError?) {
        lock.lock()
        outcome = .some(error)
        let w = waiters
        waiters = []
        lock.unlock()
        for body in w { body(error) }
    }
}

final class SessionJournal: @unchecked Sendable {
    private let database: SessionDatabase?
    /// Why there is no database (the message of every failed change), when there is none.
    private let unavailable: String?
    private let logger: Logger
    private let cond = NSCondition()
    private var queued: [(change: SessionChange, ticket: WriteTicket)] = []
    private var stopping = false
    private var stopped = false
    /// While set, the writer takes nothing (tests queue several changes to see them share one commit).
    private var paused: Bool
    /// Whether the last write failed (a failure is logged once per run of failures).
    private var failing = false
    /// Transactions committed and changes written in them (`counts`).
    private var commits = 0
    private var written = 0

    /// `paused`: the writer waits for `resume()` (tests).
    init(database: SessionDatabase, logger: Logger, paused: Bool = false) {
        self.database = database; self.unavailable = nil; self.logger = logger; self.paused = paused
        start()
    }

    /// A journal whose every change fails with `storage_unavailable` saying `reason`.
    init(unavailable reason: String, logger: Logger) {
        self.database = nil; self.unavailable = reason; self.logger = logger; self.paused = false
        start()
    }

    private func start() {
        let t = Thread { [self] in run() }
        t.name = "gpt2d-state-writer"
        t.start()
    }

    /// Queues `change` (after every change submitted before it) and returns its ticket.
    func submit(_ change: SessionChange) -> WriteTicket {
        let ticket = WriteTicket()
        cond.lock()
        if stopping {
            cond.unlock()
            ticket.complete(EngineError(.shuttingDown, "the daemon is shutting down"))
            return ticket
        }
        queued.append((change, ticket))
        cond.signal()
        cond.unlock()
        return ticket
    }

    /// Lets a paused writer go on.
    func resume() {
        cond.lock(); paused = false; cond.broadcast(); cond.unlock()
    }

    /// Writes what is queued, stops the writer and closes the database. Idempotent.
    func close() {
        cond.lock()
        stopping = true
        paused = false
        cond.broadcast()
        while !stopped { cond.wait() }
        cond.unlock()
    }

    var counts: (commits: Int, written: Int) { cond.lock(); defer { cond.unlock() }; return (commits, written) }

    private func run() {
        while true {
            cond.lock()
            while (queued.isEmpty || paused) && !stopping { cond.wait() }
            let batch = queued
            queued = []
            let done = batch.isEmpty && stopping
            cond.unlock()
            if done { break }
            write(batch)
        }
        database?.close()
        cond.lock()
        stopped = true
        cond.broadcast()
        cond.unlock()
    }

    /// One transaction for the whole batch; on failure, one per change.
    private func write(_ batch: [(change: SessionChange, ticket: WriteTicket)]) {
        if let failure = attempt(batch.map(\.change)) {
            if batch.count == 1 { return finish(batch, failure) }
            for item in batch { finish([item], attempt([item.change])) }
        } else {
            finish(batch, nil)
        }
    }

    /// Writes `changes` in one transaction; the error, if it failed.
    private func attempt(_ changes: [SessionChange]) -> EngineError? {
        guard let database else {
            return EngineError(.storageUnavailable, "session state cannot be stored: \(unavailable ?? "no database")")
        }
        do {
            try database.apply(changes)
            cond.lock(); commits += 1; written += changes.count; cond.unlock()
            return nil
        } catch {
            return EngineError(.storageUnavailable, "session state could not be written to \(database.path): \(error)")
        }
    }

    private func finish(_ items: [(change: SessionChange, ticket: WriteTicket)], _ failure: EngineError?) {
        if let failure, !failing {
            failing = true
            logger.error("session state write failed; requests that change sessions get storage_unavailable",
                         metadata: ["error": "\(failure.message)"])
        } else if failure == nil, failing {
            failing = false
            logger.notice("session state writes succeed again")
        }
        for item in items { item.ticket.complete(failure) }
    }
}
