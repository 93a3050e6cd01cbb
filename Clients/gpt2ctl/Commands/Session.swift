// gpt2ctl session open|fork|close|list|info — sessions keep a KV cache between requests.

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
        idle ones are closed after the daemon's session_idle_timeout_s (or their own, shorter \
        --idle-timeout). A named session (--name) is found again by its name.
        """,
        subcommands: [Open.self, Fork.self, Close.self, List.self, Info.self]
    )

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open a new session on a model and print its id.",
            discussion: """
            Prints the session id alone on a line (for SESSION=$(gpt2ctl session open --model gpt2)). \
            With --name, your session of that name is reused when it exists (same id, its history \
            kept), else a new one gets the name.
            """)

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Option(name: .long, help: "The model (default: the daemon's only model).")
        var model: String?

        @Option(name: .long, help: ArgumentHelp("Name it (1 to \(SessionName.maxBytes) bytes, unique among your sessions); an existing session of that name is returned.", valueName: "name"))
        var name: String?

        @Option(name: .long, help: ArgumentHelp("Close it after this many seconds unused (at most the daemon's session_idle_timeout_s).", valueName: "seconds"))
        var idleTimeout: Double?

        func validate() throws {
            if let name, !SessionName.isValid(name) {
                throw ValidationError("--name must be 1 to \(SessionName.maxBytes) bytes of text without control characters")
            }
            if let idleTimeout, !(idleTimeout > 0) { throw ValidationError("--idle-timeout must be a number of seconds > 0") }
        }

        func run() async throws {
            let client = connection.makeClient()
            let modelName = try await resolveModel(model, client)
            let id: RequestID = 1
            let s = try await client.send(SessionOpenRequest(model: modelName, name: name, idleTimeoutSeconds: idleTimeout), id: id)
            if output.json { Output.resultLine(id: id, s) } else { Output.line(s.session) }
        }
    }

    struct Fork: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a session into a new one and print the new id.",
            discussion: """
            The new session holds a copy of the history (its KV cache is shared until either one \
            changes) on the same model; the two are independent afterwards. Fails with session_busy \
            (status 5) while a request uses the source, unknown_session (4) when it is not open.
            """)

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The session copied.", valueName: "session"))
        var session: String

        @Option(name: .long, help: ArgumentHelp("Name the copy (unique among your sessions).", valueName: "name"))
        var name: String?

        func validate() throws {
            if let name, !SessionName.isValid(name) {
                throw ValidationError("--name must be 1 to \(SessionName.maxBytes) bytes of text without control characters")
            }
        }

        func run() async throws {
            let id: RequestID = 1
            let s = try await connection.makeClient().send(SessionForkRequest(session: session, name: name), id: id)
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
            discussion: """
            One row per session of your Unix user: id, name, model, tokens in its history, stored bytes, \
            KV-cache bytes held now, busy, idle time-out, created, last used (Unix time); then your \
            totals against the per-user quotas.
            """)

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(SessionListRequest(), id: id)
            if output.json { return Output.resultLine(id: id, r) }
            Output.table(sessionHeader, r.sessions.map(sessionRow))
            if let t = r.totals {
                Output.line("total: \(t.sessions)/\(t.maxSessions) sessions, \(t.nTokens)/\(t.maxTokens) tokens, "
                            + "\(t.bytes) bytes stored, \(t.kvBytes) KV bytes")
            }
        }
    }

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one session.",
            discussion: "Id, name, model, tokens in its history, stored and KV-cache bytes, whether a request is using it, idle time-out, created and last used (Unix time).")

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

private let sessionHeader = ["SESSION", "NAME", "MODEL", "TOKENS", "BYTES", "KV_BYTES", "BUSY", "IDLE_TIMEOUT", "CREATED",
                             "LAST_USED"]

/// A table row; "-" for what an older daemon does not send (and for no name).
private func sessionRow(_ s: SessionInfo) -> [String] {
    [s.session, s.name ?? "-", s.model, String(s.nTokens), s.bytes.map(String.init) ?? "-", s.kvBytes.map(String.init) ?? "-",
     s.busy ? "yes" : "no", Output.number(s.idleTimeoutSeconds, digits: 1), Output.number(s.createdAt, digits: 1),
     Output.number(s.lastUsedAt, digits: 1)]
}
