import Engine
import Foundation
import Logging
import NIOCore

/// One connection at the master, from handshake to close. Confined to its channel's event loop.
/// Any protocol violation closes this connection only, with a log line saying why.
final class MasterConnection: ChannelInboundHandler {
    typealias InboundIn = Message
    typealias OutboundOut = Message

    private enum State {
        case awaitingHello(serverNonce: Data)
        case awaitingRegistration
        case executor(ExecutorID)
        case client(Principal)
    }

    private let master: MasterContext
    private var logger: Logger
    private var state: State = .awaitingHello(serverNonce: Data())
    /// Set once we decided to close: later frames already in flight are ignored.
    private var closing = false
    private var handshakeTimer: Scheduled<Void>?
    /// The pieces of a job arriving in parts, until its `submit`.
    private var upload = JobUpload()

    init(master: MasterContext) {
        self.master = master
        self.logger = master.logger
    }

    func channelActive(context: ChannelHandlerContext) {
        logger[metadataKey: "peer"] = "\(context.remoteAddress.map { "\($0)" } ?? "?")"
        let nonce = Handshake.freshNonce()
        state = .awaitingHello(serverNonce: nonce)
        let timeout = master.settings.network.handshakeTimeout
        // The timer fires on this channel's loop, where the handler and its context belong.
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: .interval(timeout)) {
            let (handler, context) = bound.value
            handler.logger.warning("closing connection: no handshake within \(timeout) s (sextant.network.handshakeTimeout)")
            handler.close(context)
        }
        context.writeAndFlush(wrapOutboundOut(.serverHello(ServerHello(
            protocolVersion: WireFormat.protocolVersion, buildID: master.buildID, nonce: nonce,
            authenticationRequired: master.settings.network.secret != nil))), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        if case .executor(let id) = state,
           master.registry.remove(id, channel: context.channel, reason: "connection closed") {
            logger.warning("executor \(id) lost: connection closed")
        }
        if case .client = state { master.jobs.removeWaiter(context.channel) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !closing else { return }  // bytes after the first error are noise
        logger.warning("closing connection: \(error)")
        close(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let message = unwrapInboundIn(data)
        switch state {
        case .awaitingHello(let nonce): handshake(message, serverNonce: nonce, context: context)
        case .awaitingRegistration: register(message, context: context)
        case .executor(let id): executorMessage(message, from: id, context: context)
        case .client(let principal): clientRequest(message, from: principal, context: context)
        }
    }

    // MARK: Handshake and registration

    private func handshake(_ message: Message, serverNonce: Data, context: ChannelHandlerContext) {
        guard case .clientHello(let hello) = message else {
            return violation("expected clientHello first, got \(message.type)", context)
        }
        let secret = master.settings.network.secret
        let users = master.users
        let principalKey = { (principal: String) -> [UInt8]? in
            guard let secret, users?.principal(named: principal) != nil else { return nil }
            return secret.key(for: .client, principal: principal)
        }
        if let reason = Handshake.refusal(of: hello, serverNonce: serverNonce, buildID: master.buildID, secret: secret,
                                          principalKey: principalKey) {
            logger.warning("refused \(hello.role.rawValue): \(reason)")
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.refused(Refusal(reason: reason)))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        // From here every frame carries a MAC under this connection's session keys (the welcome
        // itself is the last plain frame); without a secret (loopback only) just the full frame size.
        let key = secret.flatMap { $0.key(for: hello.role, principal: hello.principal ?? "") }
        let keys = key.map { SessionKeys(roleKey: $0, serverNonce: serverNonce, clientNonce: hello.nonce) }
        ChannelSetup.authenticator(of: context.channel)?
            .start(send: keys?.toPeer, receive: keys?.toMaster, plainWrites: 1, plainReads: 0)
        let proof = key.map { Handshake.serverProof(key: $0, clientNonce: hello.nonce, serverNonce: serverNonce) }
        context.writeAndFlush(wrapOutboundOut(.welcome(Welcome(proof: proof))), promise: nil)
        logger[metadataKey: "role"] = "\(hello.role.rawValue)"
        switch hello.role {
        case .executor:
            state = .awaitingRegistration  // the handshake timer runs on until it registers
        case .client:
            handshakeTimer?.cancel()
            let principal = hello.principal.flatMap { users?.principal(named: $0) }
                ?? (secret == nil ? .local : .operatorCredential)
            logger[metadataKey: "user"] = "\(principal.name)"
            state = .client(principal)
        }
    }

    private func register(_ message: Message, context: ChannelHandlerContext) {
        guard case .register(let claimed) = message else {
            return violation("expected register after the handshake, got \(message.type)", context)
        }
        guard claimed.cores > 0 else { return violation("registration with \(claimed.cores) cores", context) }
        handshakeTimer?.cancel()
        if claimed.cores > ExecutorRegistration.maxCores {
            logger.warning("executor claims \(claimed.cores) cores; counting \(ExecutorRegistration.maxCores)")
        }
        let registration = claimed.sanitized()
        let id = master.registry.makeID(host: registration.host)
        // The ack goes out before the scheduler can hear of the executor, so it precedes any launch.
        context.writeAndFlush(wrapOutboundOut(.registered(RegistrationAck(
            executorID: id, heartbeatInterval: master.settings.network.heartbeatInterval))), promise: nil)
        let info = ExecutorInfo(id: id, host: registration.host, cores: registration.cores,
                                localPaths: registration.localPaths, attributes: registration.attributes,
                                queuedTasks: registration.queuedTasks)
        state = .executor(id)
        logger[metadataKey: "executor"] = "\(id)"
        master.registry.add(info, channel: context.channel)
        logger.info("executor \(id) registered: \(info.cores) cores, \(info.queuedTasks ?? 0) queued tasks, on \(info.host)")
    }

    // MARK: Established connections

    private func executorMessage(_ message: Message, from id: ExecutorID, context: ChannelHandlerContext) {
        switch message {
        case .heartbeat:
            master.registry.touch(id, channel: context.channel)
            context.writeAndFlush(wrapOutboundOut(.heartbeatAck), promise: nil)
        case .draining:
            logger.info("executor \(id) is draining: no new tasks for it")
            master.registry.drain(id, channel: context.channel)
        case .returnedTasks(let ids):
            master.registry.handBack(ids, from: id, channel: context.channel)
        case .taskResult(let result):
            if !master.registry.deliver([result], from: id, channel: context.channel) {
                logger.debug("dropped result of \(result.id): executor \(id) was declared lost")
            }
        case .taskResults(let results):
            if !master.registry.deliver(results, from: id, channel: context.channel) {
                logger.debug("dropped \(results.count) results: executor \(id) was declared lost")
            }
        default:
            violation("executors may not send \(message.type)", context)
        }
    }

    private func clientRequest(_ message: Message, from principal: Principal, context: ChannelHandlerContext) {
        let reply: Message
        do {
            switch message {
            case .submitPart(let part):
                upload.append(part.data, limit: master.settings.maxJobBytes)
                return
            case .submit(var request):
                if let parts = request.parts {
                    request.payload = try upload.finish(with: request.payload, parts: parts, limit: master.settings.maxJobBytes)
                    request.parts = nil
                } else {
                    upload = JobUpload()
                }
                // Submitting and cancelling write the job history: not on the event loop.
                let queued = request
                return answerOffLoop(context) { .submitted(try $0.submit(queued, by: principal)) }
            case .waitJob(let ref):
                switch try master.jobs.addWaiter(context.channel, for: ref.jobID, by: principal) {
                case .finished(let record): reply = .jobFinished(record)
                case .waiting(latestProgress: nil): return
                case .waiting(latestProgress: let data?): reply = .jobProgress(JobProgress(jobID: ref.jobID, data: data))
                }
            case .status(let request):
                reply = .statusReply(try master.jobs.status(of: request.jobID, by: principal))
            case .cancelJob(let ref):
                return answerOffLoop(context) { .cancelReply(try $0.cancel(ref.jobID, by: principal)) }
            default:
                return violation("clients may not send \(message.type)", context)
            }
        } catch {
            reply = .requestFailed(Refusal(reason: "\(error)"))
        }
        context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
    }

    /// Runs a request that touches the disk on the master's request queue and writes its reply
    /// (or the refusal) to the channel from there.
    private func answerOffLoop(_ context: ChannelHandlerContext, _ answer: @escaping @Sendable (JobManager) throws -> Message) {
        let channel = context.channel
        let jobs = master.jobs
        master.requestQueue.async {
            let reply: Message
            do { reply = try answer(jobs) } catch { reply = .requestFailed(Refusal(reason: "\(error)")) }
            channel.writeAndFlush(reply, promise: nil)
        }
    }

    private func violation(_ reason: String, _ context: ChannelHandlerContext) {
        logger.warning("closing connection: protocol violation: \(reason)")
        close(context)
    }

    private func close(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        context.close(promise: nil)
    }
}

/// A job travelling in parts: bytes gathered up to `sextant.master.maxJobBytes`. A job over the
/// limit is dropped as it arrives and refused once, when its final `submit` comes.
struct JobUpload {
    private var bytes = Data()
    private var parts = 0
    private var overflowed = false

    mutating func append(_ data: Data, limit: Int) {
        parts += 1
        guard !overflowed, bytes.count + data.count <= limit else {
            overflowed = true
            bytes = Data()
            return
        }
        bytes.append(data)
    }

    /// The whole payload, once the `parts` announced all arrived; the upload starts over.
    mutating func finish(with last: Data, parts expected: Int, limit: Int) throws -> Data {
        defer { self = JobUpload() }
        guard expected == parts else {
            throw ClusterError.requestFailed("the job arrived in \(parts) parts, not the \(expected) announced; submit it again")
        }
        append(last, limit: limit)
        guard !overflowed else {
            throw ClusterError.requestFailed("the job is larger than \(limit) bytes (sextant.master.maxJobBytes)")
        }
        return bytes
    }
}
