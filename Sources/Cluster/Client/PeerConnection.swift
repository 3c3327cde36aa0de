import Foundation
import Logging
import NIOCore
import NIOPosix

/// A connection to the master as seen by an executor or a client: blocking send/receive on the
/// caller's thread, the handshake done on open. NIO does the I/O; messages wait in an inbox.
final class PeerConnection: Sendable {
    private let channel: Channel
    private let inbox: Inbox

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects and completes the handshake (and mutual authentication when a secret is set).
    /// Throws `ClusterError.refused` when the master turns us away: retrying cannot help then.
    static func open(to address: MasterAddress, role: PeerRole, buildID: String, network: NetworkSettings,
                     group: EventLoopGroup, logger: Logger) throws -> PeerConnection {
        let inbox = Inbox()
        let maxFrame = network.maxFrameBytes
        let channel = try ClientBootstrap(group: group)
            .connectTimeout(.interval(network.handshakeTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    inbox.authenticator = try ChannelSetup.install(on: channel, maxFrameBytes: maxFrame, handler: inbox)
                }
            }
            .connect(host: address.host, port: address.port).wait()
        logger.debug("connected to \(address) as \(role.rawValue)")
        let connection = PeerConnection(channel: channel, inbox: inbox)
        do {
            try connection.handshake(role: role, buildID: buildID, network: network, address: address)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private func handshake(role: PeerRole, buildID: String, network: NetworkSettings, address: MasterAddress) throws {
        let deadline = Date(timeIntervalSinceNow: network.handshakeTimeout)
        guard case .serverHello(let server) = try receive(until: deadline, what: "the master's hello") else {
            throw ClusterError.protocolViolation("\(address) did not open with a hello")
        }
        let secret = network.secret
        if secret != nil && !server.authenticationRequired {
            throw ClusterError.refused("\(address) does not require authentication but this side has a secret; "
                + "refusing a master that cannot prove it knows it")
        }
        // Secure by default: tasks from an unauthenticated master could read and write anything we can.
        if secret == nil && !Loopback.contains(channel.remoteAddress) {
            throw ClusterError.refused("\(address) is not on loopback and does not authenticate; refusing it "
                + "(give this side the cluster's secret or credential: sextant.authenticate.secretFile or "
                + "\(ClusterSecret.environmentVariable))")
        }
        let key = try secret.map { secret -> [UInt8] in
            guard let key = secret.key(for: role, principal: secret.principal ?? "") else {
                throw ClusterError.refused("this side holds only the \(secret.scope?.rawValue ?? "") credential; "
                    + "it cannot connect as \(role.rawValue)")
            }
            return key
        }
        let nonce = Handshake.freshNonce()
        let proof = key.map { Handshake.clientProof(key: $0, serverNonce: server.nonce, role: role, clientNonce: nonce) }
        // The hello and the master's answer are the last plain frames; every later one has a MAC.
        let keys = key.map { SessionKeys(roleKey: $0, serverNonce: server.nonce, clientNonce: nonce) }
        inbox.authenticator?.start(send: keys?.toMaster, receive: keys?.toPeer, plainWrites: 1, plainReads: 1)
        send(.clientHello(ClientHello(protocolVersion: WireFormat.protocolVersion, buildID: buildID,
                                      role: role, nonce: nonce, proof: proof, principal: secret?.principal)))
        switch try receive(until: deadline, what: "the master's welcome") {
        case .welcome(let welcome):
            if let key {
                let expected = Handshake.serverProof(key: key, clientNonce: nonce, serverNonce: server.nonce)
                guard Handshake.matches(welcome.proof, expected) else {
                    throw ClusterError.refused("\(address) failed to prove it knows the secret")
                }
            }
        case .refused(let refusal):
            throw ClusterError.refused(refusal.reason)
        default:
            throw ClusterError.protocolViolation("\(address) answered the hello with something else")
        }
    }

    /// Sends `message`; the future fails when it could not be written (too large, connection gone).
    @discardableResult
    func send(_ message: Message) -> EventLoopFuture<Void> {
        channel.writeAndFlush(message)
    }

    /// The next message, or nil when `timeout` passes first. Throws when the connection ended.
    func receive(timeout: TimeInterval?) throws -> Message? {
        try inbox.take(until: timeout.map { Date(timeIntervalSinceNow: $0) })
    }

    private func receive(until deadline: Date, what: String) throws -> Message {
        guard let message = try inbox.take(until: deadline) else { throw ClusterError.timedOut("waiting for \(what)") }
        return message
    }

    var isOpen: Bool { channel.isActive }

    /// The loop the connection's I/O runs on.
    var eventLoop: EventLoop { channel.eventLoop }

    func close() {
        channel.close(promise: nil)
    }
}

/// Collects a connection's messages for a blocking reader; remembers why the connection ended.
/// @unchecked: `condition` guards `messages`, `head` and `endReason`; `authenticator` is set
/// once by the channel initializer and read only after the connect has been waited for.
final class Inbox: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Message

    private let condition = NSCondition()
    /// Set when the channel is set up, before any frame arrives.
    var authenticator: FrameAuthenticator?
    private var messages: [Message] = []
    private var head = 0
    private var endReason: ClusterError?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = unwrapInboundIn(data)
        condition.lock()
        messages.append(message)
        condition.signal()
        condition.unlock()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        end(error as? ClusterError ?? .protocolViolation("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(.connectionClosed("the master closed the connection"))
        context.fireChannelInactive()
    }

    private func end(_ reason: ClusterError) {
        condition.lock()
        if endReason == nil { endReason = reason }
        condition.broadcast()
        condition.unlock()
    }

    /// Messages already received are handed out before the connection's end is reported.
    func take(until deadline: Date?) throws -> Message? {
        condition.lock(); defer { condition.unlock() }
        while head == messages.count {
            if let endReason { throw endReason }
            if let deadline {
                if !condition.wait(until: deadline) && head == messages.count {
                    if let endReason { throw endReason }
                    return nil
                }
            } else {
                condition.wait()
            }
        }
        let message = messages[head]
        head += 1
        if head > 1024 && head * 2 > messages.count {
            messages.removeFirst(head)
            head = 0
        }
        return message
    }
}
