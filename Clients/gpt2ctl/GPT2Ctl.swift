// gpt2ctl — the operator's command line for gpt2d: one subcommand per protocol op (PROTOCOL.md §4).
//
// Exit statuses are part of the interface (scripts branch on them); `Status` defines them and
// `GPT2Ctl.main` maps every error to one. Argument-parser's own usage errors (64 by default) become 1.

import ArgumentParser
import GPT2Client
import GPT2Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct GPT2Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpt2ctl",
        abstract: "Talk to the gpt2d GPT-2 daemon over its Unix socket.",
        discussion: """
        Every subcommand sends one request of gpt2d's JSON-lines protocol (v\(ProtocolVersion.current)) and \
        prints the answer for humans, or the raw response lines with --json. The socket is --socket, else \
        $\(GPT2Client.socketEnvironmentVariable), else \(GPT2Client.defaultSocketPath).

        Example:
          echo "Hello, I'm a language model" |
            gpt2ctl generate --model gpt2 --max-new-tokens 40

        Shell completion: gpt2ctl --generate-completion-script bash|zsh|fish

        \(Status.helpText)
        """,
        version: "gpt2ctl 0.1.0 (protocol v\(ProtocolVersion.current))",
        subcommands: [
            Generate.self, Score.self, Tokenize.self, Detokenize.self, Classify.self, Tag.self, QA.self,
            Choose.self, Embed.self, Models.self, Health.self, Stats.self, Session.self,
        ]
    )

    /// Like argument-parser's `main`, but with gpt2ctl's exit statuses (see `Status`).
    static func main() async {
        do {
            var command = try parseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitWith(error)
        }
    }

    static func exitWith(_ error: any Error) -> Never {
        if let failure = error as? Failure {
            Output.error("gpt2ctl: \(failure.message)")
            terminate(failure.status)
        }
        if let e = error as? GPT2ClientError {
            if Output.jsonMode, case .daemon(let w) = e { Output.errorLine(id: 1, w) }
            Output.error("gpt2ctl: \(e)")
            terminate(Status(e))
        }
        if error is CancellationError {
            terminate(.interrupted)
        }
        let code = exitCode(for: error)
        if code == .validationFailure {
            Output.error(fullMessage(for: error))
            terminate(.usage)
        }
        exit(withError: error)
    }
}

/// gpt2ctl's exit statuses.
enum Status: Int32 {
    case success = 0
    /// Bad command line (unknown option, bad value, missing argument).
    case usage = 1
    /// The daemon cannot be reached: socket missing, connection refused or closed, permission denied.
    case unreachable = 2
    /// The daemon rejected the request as malformed or invalid.
    case badRequest = 3
    /// The model or session named does not exist.
    case notFound = 4
    /// Any other daemon error (overloaded, context_overflow, session_busy, shutting_down, cancelled,
    /// internal_error, forbidden, quota_exceeded, model_exists, model_load_failed, …), a timeout, or an
    /// unreadable answer.
    case daemonError = 5
    /// Interrupted by SIGINT (the daemon is told to cancel the request).
    case interrupted = 130

    init(_ e: GPT2ClientError) {
        switch e {
        case .connectionFailed, .connectionClosed: self = .unreachable
        case .requestTooLarge: self = .badRequest
        case .timeout, .protocolViolation: self = .daemonError
        case .daemon(let w): self = Status(w.code)
        }
    }

    init(_ code: WireErrorCode) {
        switch code {
        case .parseError, .invalidUTF8, .lineTooLong, .invalidRequest, .unknownOp, .missingField, .invalidField,
             .tooLarge:
            self = .badRequest
        case .unknownModel, .unknownSession:
            self = .notFound
        case .sessionForbidden, .sessionBusy, .contextOverflow, .unsupportedTask, .overloaded, .cancelled,
             .shuttingDown, .internalError, .modelUnavailable, .forbidden, .storageUnavailable, .quotaExceeded,
             .modelExists, .modelLoadFailed:
            self = .daemonError
        }
    }

    static let helpText = """
        EXIT STATUS:
          0    success
          1    usage error (bad option or argument)
          2    daemon unreachable: socket missing, connection refused or
               closed, permission denied
          3    bad request: parse_error, invalid_utf8, line_too_long,
               invalid_request, unknown_op, missing_field, invalid_field,
               too_large
          4    not found: unknown_model, unknown_session
          5    other daemon error: context_overflow, overloaded, session_busy,
               session_forbidden, forbidden, unsupported_task, cancelled,
               shutting_down, internal_error, model_unavailable,
               storage_unavailable, quota_exceeded, model_exists,
               model_load_failed; also a timeout or an unreadable answer
          130  interrupted (SIGINT)
        """
}

/// An error that ends gpt2ctl with a message and a status.
struct Failure: Error {
    var status: Status
    var message: String
}
