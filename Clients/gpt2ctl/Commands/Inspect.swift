// gpt2ctl health / stats — whether the daemon is up and how it is doing (models: Models.swift).

import ArgumentParser
import GPT2Client
import GPT2Wire

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that the daemon is up.",
        discussion: """
        Prints the status ("ok", or "shutting_down" while it drains), the protocol version and the \
        uptime. Exits 0 when the daemon answers (whatever the status), 2 when it cannot be reached — \
        usable as a readiness probe: until gpt2ctl health >/dev/null 2>&1; do sleep 0.2; done
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let id: RequestID = 1
        let r = try await connection.makeClient().send(HealthRequest(), id: id)
        if output.json { return Output.resultLine(id: id, r) }
        Output.line("\(r.status) (protocol v\(r.protocolVersion), up \(Output.number(r.uptimeSeconds, digits: 1)) s)")
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's counters.",
        discussion: """
        Uptime, open connections, requests running or queued now, queue depth, and totals since start: \
        requests, error lines, prompt and completion tokens; open sessions.
        """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let id: RequestID = 1
        let s = try await connection.makeClient().send(StatsRequest(), id: id)
        if output.json { return Output.resultLine(id: id, s) }
        Output.table(["counter", "value"], [
            ["uptime_seconds", Output.number(s.uptimeSeconds, digits: 1)],
            ["connections", String(s.connections)],
            ["requests_active", String(s.requestsActive)],
            ["queue_depth", String(s.queueDepth)],
            ["requests_total", String(s.requestsTotal)],
            ["errors_total", String(s.errorsTotal)],
            ["prompt_tokens_total", String(s.promptTokensTotal)],
            ["completion_tokens_total", String(s.completionTokensTotal)],
            ["sessions", String(s.sessions)],
        ])
    }
}
