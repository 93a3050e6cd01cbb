// Connection — one NIO Unix-socket channel to gpt2d, turned into an ordered stream of response lines.
//
// Threading: the channel lives on an event loop of `MultiThreadedEventLoopGroup.singleton`. The inbound
// handler runs on that loop: it frames bytes into lines (GPT2Wire.LineFramer) and parses each line
// (IncomingResponse.parse), then yields it into an `AsyncStream`. The GPT2Client actor consumes that
// stream in one task, so the lines of a request reach it in the order they were read. Writes go through
// `Channel.writeAndFlush`, which is safe from any thread.

import GPT2Wire
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the reader task sees from the socket.
enum InboundEvent: Sendable {
    /// A parsed response line.
    case response(IncomingResponse)
    /// A line that is not a valid response line.
    case malformed(String)
    /// The connection ended (EOF or error); nothing follows.
    case closed
}

final class Connection: Sendable {
    let channel: any Channel
    let events: AsyncStream<InboundEvent>
    let number: Int

    private init(channel: any Channel, events: AsyncStream<InboundEvent>, number: Int) {
        self.channel = channel
        self.events = events
        self.number = number
    }

    /// Connects to the Unix socket at `path`. Throws `GPT2ClientError.connectionFailed`.
    static func open(path: String, number: Int, maxResponseLineBytes: Int) async throws -> Connection {
        let (stream, sink) = AsyncStream.makeStream(of: InboundEvent.self)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseLineHandler(sink: sink, maxLineBytes: maxResponseLineBytes))
                }
            }
        do {
            let channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            return Connection(channel: channel, events: stream, number: number)
        } catch let e as IOError {
            sink.finish()
            throw GPT2ClientError.connectionFailed(path: path, errno: e.errnoCode, description: Self.describe(errno: e.errnoCode))
        } catch {
            sink.finish()
            throw GPT2ClientError.connectionFailed(path: path, errno: nil, description: "\(error)")
        }
    }

    static func describe(errno code: Int32) -> String {
        switch code {
        case ENOENT: return "no such socket (is gpt2d running?)"
        case ECONNREFUSED: return "connection refused (no daemon is listening on the socket)"
        case EACCES: return "permission denied (join the socket's group, e.g. gpt2d)"
        default: return String(cString: strerror(code))
        }
    }

    func write(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// Frames inbound bytes into response lines and forwards them, parsed, to the client's reader task.
private final class ResponseLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let sink: AsyncStream<InboundEvent>.Continuation
    private var framer: LineFramer
    private var finished = false

    init(sink: AsyncStream<InboundEvent>.Continuation, maxLineBytes: Int) {
        self.sink = sink
        self.framer = LineFramer(maxLineBytes: maxLineBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        forward(framer.push(buffer.readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        forward(framer.finish())
        finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish()
        context.close(promise: nil)
    }

    private func forward(_ events: [LineFramer.Event]) {
        for event in events {
            switch event {
            case .line(let bytes):
                do {
                    sink.yield(.response(try IncomingResponse.parse(bytes)))
                } catch {
                    sink.yield(.malformed("\(error.message): \(String(decoding: bytes.prefix(200), as: UTF8.self))"))
                }
            case .tooLong:
                sink.yield(.malformed("a response line exceeded \(framer.maxLineBytes) bytes"))
            }
        }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        sink.yield(.closed)
        sink.finish()
    }
}
