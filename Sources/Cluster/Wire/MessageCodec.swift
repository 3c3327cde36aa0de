import Foundation
import NIOCore

extension Message {
    var type: MessageType {
        switch self {
        case .serverHello: return .serverHello
        case .clientHello: return .clientHello
        case .welcome: return .welcome
        case .refused: return .refused
        case .register: return .register
        case .registered: return .registered
        case .heartbeat: return .heartbeat
        case .heartbeatAck: return .heartbeatAck
        case .launchTask: return .launchTask
        case .cancelTask: return .cancelTask
        case .taskResult: return .taskResult
        case .launchTasks: return .launchTasks
        case .taskResults: return .taskResults
        case .draining: return .draining
        case .returnedTasks: return .returnedTasks
        case .submit: return .submit
        case .submitPart: return .submitPart
        case .submitted: return .submitted
        case .waitJob: return .waitJob
        case .jobProgress: return .jobProgress
        case .jobFinished: return .jobFinished
        case .status: return .status
        case .statusReply: return .statusReply
        case .cancelJob: return .cancelJob
        case .cancelReply: return .cancelReply
        case .requestFailed: return .requestFailed
        }
    }

    private var body: any Encodable {
        switch self {
        case .serverHello(let m): return m
        case .clientHello(let m): return m
        case .welcome(let m): return m
        case .refused(let m), .requestFailed(let m): return m
        case .register(let m): return m
        case .registered(let m): return m
        case .heartbeat, .heartbeatAck, .draining: return Empty()
        case .launchTask(let m): return m
        case .cancelTask(let m): return m
        case .taskResult(let m): return m
        case .launchTasks(let m): return m
        case .taskResults(let m): return m
        case .returnedTasks(let m): return m
        case .submit(let m): return m
        case .submitPart(let m): return m
        case .submitted(let m), .jobFinished(let m), .cancelReply(let m): return m
        case .waitJob(let m), .cancelJob(let m): return m
        case .jobProgress(let m): return m
        case .status(let m): return m
        case .statusReply(let m): return m
        }
    }

    /// Header and body; the length prefix is added by LengthFieldPrepender. `encoder`: one the
    /// caller keeps (a connection's codec), so a frame does not pay for making one.
    func encode(into buffer: inout ByteBuffer, version: UInt16 = WireFormat.protocolVersion,
                encoder: JSONEncoder = JSONCoding.encoder()) throws {
        buffer.writeBytes(WireFormat.magic)
        buffer.writeInteger(version)
        buffer.writeInteger(type.rawValue)
        switch self {
        case .launchTasks(let specs): TaskBatchCoding.write(specs, to: &buffer)
        case .taskResults(let results): TaskBatchCoding.write(results, to: &buffer)
        default: buffer.writeBytes(try encoder.encode(body))
        }
    }

    /// Reads one frame (without its length prefix).
    static func decode(frame: ByteBuffer, decoder: JSONDecoder = JSONCoding.decoder()) throws -> Message {
        var frame = frame
        guard let magic = frame.readBytes(length: WireFormat.magic.count),
              let version = frame.readInteger(as: UInt16.self),
              let rawType = frame.readInteger(as: UInt8.self) else {
            throw WireError.malformed("shorter than its header")
        }
        guard magic == WireFormat.magic else { throw WireError.badMagic(magic) }
        guard let type = MessageType(rawValue: rawType) else { throw WireError.unknownType(rawType) }
        // Hellos are read whatever their version, so the handshake can name both versions.
        guard version == WireFormat.protocolVersion || type == .serverHello || type == .clientHello else {
            throw WireError.versionMismatch(version)
        }
        // The task batches are binary (TaskBatchCoding); the rest JSON.
        switch type {
        case .launchTasks:
            let specs = try TaskBatchCoding.readSpecs(&frame)
            try TaskBatchCoding.finish(frame)
            return .launchTasks(specs)
        case .taskResults:
            let results = try TaskBatchCoding.readResults(&frame)
            try TaskBatchCoding.finish(frame)
            return .taskResults(results)
        default: break
        }
        let body = Data(frame.readableBytesView)
        do {
            return try decode(type: type, body: body, decoder: decoder)
        } catch let error as DecodingError {
            throw WireError.undecodableBody("\(type)", describe(error))
        }
    }

    private static func decode(type: MessageType, body: Data, decoder: JSONDecoder) throws -> Message {
        func read<T: Decodable>(_: T.Type = T.self) throws -> T { try decoder.decode(T.self, from: body) }
        switch type {
        case .serverHello: return .serverHello(try read())
        case .clientHello: return .clientHello(try read())
        case .welcome: return .welcome(try read())
        case .refused: return .refused(try read())
        case .register: return .register(try read())
        case .registered: return .registered(try read())
        case .heartbeat: return .heartbeat
        case .heartbeatAck: return .heartbeatAck
        case .launchTask: return .launchTask(try read())
        case .cancelTask: return .cancelTask(try read())
        case .taskResult: return .taskResult(try read())
        case .launchTasks: return .launchTasks(try read())
        case .taskResults: return .taskResults(try read())
        case .draining: return .draining
        case .returnedTasks: return .returnedTasks(try read())
        case .submit: return .submit(try read())
        case .submitPart: return .submitPart(try read())
        case .submitted: return .submitted(try read())
        case .waitJob: return .waitJob(try read())
        case .jobProgress: return .jobProgress(try read())
        case .jobFinished: return .jobFinished(try read())
        case .status: return .status(try read())
        case .statusReply: return .statusReply(try read())
        case .cancelJob: return .cancelJob(try read())
        case .cancelReply: return .cancelReply(try read())
        case .requestFailed: return .requestFailed(try read())
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "\(path): \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Frames <-> messages. Inbound errors travel down the pipeline to the connection's handler,
/// which logs them and closes that connection only. A message too large to send fails its
/// write promise (the sender decides what to do instead); without a promise it is a connection error.
final class MessageCodec: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Message
    typealias OutboundIn = Message
    typealias OutboundOut = ByteBuffer

    let maxFrameBytes: Int
    /// Kept for the connection's life (the codec is confined to its event loop): making a
    /// coder per frame cost more than the JSON of a small frame.
    private let encoder = JSONCoding.encoder()
    private let decoder = JSONCoding.decoder()

    init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            let message = try Message.decode(frame: unwrapInboundIn(data), decoder: decoder)
            context.fireChannelRead(wrapInboundOut(message))
        } catch {
            context.fireErrorCaught(error)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 256)
        do {
            try message.encode(into: &buffer, encoder: encoder)
            // Room for the MAC the authenticator appends, so the peer's limit holds.
            guard buffer.readableBytes + FrameAuthenticator.tagBytes <= maxFrameBytes else {
                throw WireError.frameTooLarge(buffer.readableBytes, limit: maxFrameBytes)
            }
            context.write(wrapOutboundOut(buffer), promise: promise)
        } catch {
            if let promise { promise.fail(error) } else { context.fireErrorCaught(error) }
        }
    }
}
