// gpt2ctl models [list] | models load | models unload — what the daemon serves, and changing it
// without a restart (load / unload: root and the daemon's admin_group only).

import ArgumentParser
import GPT2Client
import GPT2Wire

struct Models: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, load or unload the daemon's models.",
        discussion: """
        Without a subcommand: the list. models load and models unload change the models served \
        without a restart (root and members of the daemon's admin_group; others get forbidden, \
        status 5); a restart serves the config file's list again.
        """,
        subcommands: [List.self, Load.self, Unload.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the models the daemon serves.",
            discussion: """
            One row per model: the name to pass as --model, the checkpoint architecture, layers, embedding \
            size, heads, context length (n_positions), vocabulary size, weight dtype, the checkpoint format it was \
            read from (safetensors, pytorch), the ops it serves, whether it is loaded ("no" while keep_alive \
            has it unloaded: the next request loads it again), its keep_alive in seconds and when a request \
            last named it (Unix time).
            """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(ModelsRequest(), id: id)
            if output.json { return Output.resultLine(id: id, r) }
            Output.table(["NAME", "ARCHITECTURE", "LAYERS", "EMBD", "HEADS", "CTX", "VOCAB", "DTYPE", "WEIGHTS", "MATMUL",
                          "KV", "FORMAT", "TASKS", "LOADED", "KEEP_ALIVE", "LAST_USED"],
                         r.models.map { m in
                [m.name, m.architecture, String(m.nLayer), String(m.nEmbd), String(m.nHead), String(m.nPositions),
                 String(m.vocabSize), m.dtype, m.weightType ?? "-", m.matmulPrecision ?? "-", m.kvDType ?? "-",
                 m.format ?? "-", m.tasks.joined(separator: ","),
                 m.loaded.map { $0 ? "yes" : "no" } ?? "-", Output.number(m.keepAliveSeconds, digits: 1),
                 Output.number(m.lastUsedAt, digits: 1)]
            })
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve one more model without a restart.",
            discussion: """
            Loads the checkpoint directory (a path as the daemon sees it) while the other models keep \
            being served, and prints the new model's row once it serves. Exit status 5 with \
            model_exists (the name is taken), model_load_failed (the directory does not load) or \
            forbidden; 3 with invalid_field (a bad name, weight type or keep-alive).
            """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The name requests will use (no whitespace, '=' or ':').", valueName: "name"))
        var name: String

        @Argument(help: ArgumentHelp("The checkpoint directory on the daemon's machine.", valueName: "directory"),
                  completion: .directory)
        var directory: String

        @Option(name: .long, help: ArgumentHelp(
            "Serve the weights as float32, bfloat16, float16, int8, nf4, q4 or checkpoint (default: the daemon's weight_type).",
            valueName: "type"))
        var weightType: String?

        @Option(name: .long, help: ArgumentHelp(
            "Unload it after this many seconds unused; the next request loads it again (default: served until unloaded).",
            valueName: "seconds"))
        var keepAlive: Double?

        func validate() throws {
            if let keepAlive, !(keepAlive > 0) { throw ValidationError("--keep-alive must be a number of seconds > 0") }
        }

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(
                ModelsLoadRequest(name: name, directory: directory, weightType: weightType, keepAliveSeconds: keepAlive), id: id)
            if output.json { return Output.resultLine(id: id, r) }
            let m = r.model
            Output.line("loaded \(m.name) (\(m.architecture), \(m.weightType ?? m.dtype), \(m.format ?? "-")) in "
                        + "\(Output.number(r.loadSeconds, digits: 2)) s"
                        + (m.keepAliveSeconds.map { ", keep_alive \(Output.number($0, digits: 1)) s" } ?? ""))
        }
    }

    struct Unload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop serving a model without a restart.",
            discussion: """
            New requests for it are refused at once; its running requests may finish for up to \
            --drain-timeout seconds (then they end with model_unavailable); its memory is given back \
            before this returns. Its sessions are kept and continue once a model of that name is loaded \
            again. Exit status 4 with unknown_model, 5 with model_unavailable or forbidden.
            """
        )

        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("The model's name.", valueName: "name"))
        var name: String

        @Option(name: .long, help: ArgumentHelp(
            "Seconds its running requests may still run, 0 to 3600 (default: the daemon's drain_timeout_s).",
            valueName: "seconds"))
        var drainTimeout: Double?

        func validate() throws {
            if let drainTimeout, !(0...3600).contains(drainTimeout) {
                throw ValidationError("--drain-timeout must be a number of seconds from 0 to 3600")
            }
        }

        func run() async throws {
            let id: RequestID = 1
            let r = try await connection.makeClient().send(ModelsUnloadRequest(name: name, drainTimeoutSeconds: drainTimeout), id: id)
            if output.json { return Output.resultLine(id: id, r) }
            Output.line("unloaded \(r.name) (\(r.stoppedRequests) requests stopped, \(r.freedKVBlocks) KV blocks freed)")
        }
    }
}
