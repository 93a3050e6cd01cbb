// gpt2ctl session open|close|list|info — sessions keep a KV cache between requests.

import ArgumentParser
import GPT2Client
import GPT2Wire

struct Session: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage sessions (a KV cache kept between requests).",
        discussion: """
        A session is a token history on one model: each generate or score that names it \
        (--session ID) sends only the new text, which is appended to the history; the model sees \
        history + input, and the daemon keeps a KV cache of the history so a growing conversation is \
        not recomputed. Results are the same as without a session. Sessions belong to your Unix user; \
        idle ones are closed after the daemon's session_idle_timeout_s.
        """,
        subcommands: [Open.self, Close.self, List.self, Info.self]
    )

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a new session on a model and print its id.",
            discussion: "Prints the session id alone on a line (for SESSION=$(gpt2ctl session open --model gpt2)).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Option(name: .long, help: "The model (default: the daemon's only model).")
        var model: String?

        func run() async throws {
            let client = connection.makeClient()
            let name = try await resolveModel(model, client)
            let id: RequestID = 1
            let s = try await client.send(SessionOpenRequest(model: name), id: id)
            if output.json { Output.resultLine(id: id, s) } else { Output.line(s.session) }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a session and free its KV cache.",
            discussion: "Fails with session_busy (status 5) while a request uses it, unknown_session (4) when it is not open.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The session id.", valueName: "session"))
        var session: String

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(SessionCloseRequest(session: session), id: id)
            if output.json { Output.resultLine(id: id, r) } else { Output.line("closed \(r.session)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List your open sessions.",
            discussion: "One row per session of your Unix user: id, model, tokens cached, busy, created, last used.")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(SessionListRequest(), id: id)
            if output.json { return Output.resultLine(id: id, r) }
            Output.table(sessionHeader, r.sessions.map(sessionRow))
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one session.",
            discussion: "Id, model, tokens cached, whether a request is using it, created and last used (Unix time).")

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The session id.", valueName: "session"))
        var session: String

        func run() async throws {
            let id: RequestID = 1
            let s = try await connection.makeClient().send(SessionInfoRequest(session: session), id: id)
            if output.json { return Output.resultLine(id: id, s) }
            Output.table(sessionHeader, [sessionRow(s)])
        }
    }
}

private let sessionHeader = ["SESSION", "MODEL", "TOKENS", "BUSY", "CREATED", "LAST_USED"]

private func sessionRow(_ s: SessionInfo) -> [String] {
    [s.session, s.model, String(s.nTokens), s.busy ? "yes" : "no", Output.number(s.createdAt, digits: 1),
     Output.number(s.lastUsedAt, digits: 1)]
}
