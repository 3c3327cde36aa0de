import Engine
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The monitor's HTTP/1.1 server: every request goes to the `Router`, one response per
/// connection (`Connection: close`), which is plenty for a status page and a scraper.
public final class WebServer: Sendable {
    private let router: Router
    private let logger: Logger
    private let group: EventLoopGroup
    private let access: WebAccess
    private let maxConnections: Int
    private let requestTimeout: TimeAmount
    /// Set by `start`, cleared by `stop`, read by `url` and `port` from any thread.
    private let channel = Locked<Channel?>(nil)

    public init(monitor: Monitor, logger: Logger = Logger(label: "sextant.monitor"),
                group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.router = Router(monitor: monitor)
        self.logger = logger
        self.group = group
        self.access = monitor.settings.access
        self.maxConnections = monitor.settings.maxConnections
        // Each connection carries one request; one not answered in time is closed (slow loris).
        self.requestTimeout = .nanoseconds(Int64(monitor.settings.requestTimeout * 1e9))
    }

    /// Binds `host:port` (0 picks a free port) and returns the URL it serves. Refuses to listen
    /// beyond loopback without a token (sextant.ui.tokenFile or SEXTANT_UI_TOKEN).
    @discardableResult
    public func start(host: String, port: Int) throws -> String {
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        // A portal whose users log in with tokens authenticates every request itself.
        let portalLogin = router.monitor.portal?.requiresLogin == true
        guard loopback || access.token != nil || portalLogin else { throw WebServerError.noToken(host: host) }
        let router = self.router
        let access = self.access
        let open = OpenConnections(limit: maxConnections)
        let logger = self.logger
        let requestTimeout = self.requestTimeout
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.enter() else {
                    logger.warning("web UI: refusing a connection: \(open.limit) open (sextant.ui.maxConnections)")
                    return channel.eventLoop.makeFailedFuture(WebServerError.tooManyConnections)
                }
                channel.closeFuture.whenComplete { _ in open.leave() }
                let deadline = channel.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
                channel.closeFuture.whenComplete { _ in deadline.cancel() }
                return channel.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                    channel.pipeline.addHandler(HTTPHandler(router: router, access: access, portalLogin: portalLogin,
                                                            deadline: deadline, stallTimeout: requestTimeout))
                }
            }
        do {
            channel.value = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            throw WebServerError.cannotBind(host: host, port: port, reason: "\(error)")
        }
        return url!
    }

    /// The URL actually served, e.g. http://127.0.0.1:8080/.
    public var url: String? {
        guard let address = channel.value?.localAddress, let port = address.port else { return nil }
        let host = address.ipAddress ?? "127.0.0.1"
        let shown = host == "0.0.0.0" || host == "::" ? ProcessInfo.processInfo.hostName : host
        return "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(port)/"
    }

    public var port: Int? { channel.value?.localAddress?.port }

    public func stop() {
        try? channel.value?.close().wait()
        channel.value = nil
    }
}

public enum WebServerError: Error, CustomStringConvertible {
    case cannotBind(host: String, port: Int, reason: String)
    case noToken(host: String)
    case tooManyConnections

    public var description: String {
        switch self {
        case .noToken(let host):
            return "the web UI would listen on \(host) without a token: set sextant.ui.tokenFile (a file of 16+ "
                + "characters, mode 600) or \(MonitorSettings.tokenVariable), or sextant.ui.host=127.0.0.1"
        case .tooManyConnections:
            return "too many connections (sextant.ui.maxConnections)"
        case .cannotBind(let host, let port, let reason):
            return "cannot serve the web UI on \(host):\(port) (sextant.ui.host, sextant.ui.port; 0 picks a free port): \(reason)"
        }
    }
}

/// Collects one request and answers it from the router.
/// @unchecked: confined to its connection's event loop, like every NIO handler.
private final class HTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest request body read (a submit with a few uploaded FITS files); more is refused with 413.
    static let maxBodyBytes = 256 << 20

    private let router: Router
    private let access: WebAccess
    /// The portal checks users' tokens itself: the access check here is the Host check only.
    private let portalLogin: Bool
    private var head: HTTPRequestHead?
    private var body = Data()
    private var tooLarge = false

    /// The connection's answer deadline; a stream, once started, is bound by `stallTimeout` per piece instead.
    private let deadline: Scheduled<Void>?
    private let stallTimeout: TimeAmount

    init(router: Router, access: WebAccess, portalLogin: Bool, deadline: Scheduled<Void>? = nil,
         stallTimeout: TimeAmount = .seconds(15)) {
        self.router = router
        self.access = access
        self.portalLogin = portalLogin
        self.deadline = deadline
        self.stallTimeout = stallTimeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
            tooLarge = false
        case .body(var buffer):
            guard !tooLarge else { return }
            if body.count + buffer.readableBytes > Self.maxBodyBytes {
                tooLarge = true
                body = Data()
                return
            }
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                return write(.json(["error": "the request is larger than \(Self.maxBodyBytes >> 20) MiB"], status: 413),
                             isHead: false, version: head.version, context: context)
            }
            var checked = access
            if portalLogin { checked.token = nil }
            switch checked.verdict(host: head.headers.first(name: "Host"), uri: head.uri,
                                   authorization: head.headers.first(name: "Authorization"),
                                   cookie: head.headers.first(name: "Cookie")) {
            case .allowed:
                break
            case .setCookie(let location):
                var response = WebResponse.redirect(location)
                response.setCookie = "\(WebAccess.cookieName)=\(access.token ?? ""); Path=/; HttpOnly; SameSite=Strict"
                return write(response, isHead: head.method == .HEAD, version: head.version, context: context)
            case .refused(let status, let reason):
                return write(.html(Pages.message("Refused", reason), status: status), isHead: head.method == .HEAD,
                             version: head.version, context: context)
            }
            let method = head.method == .HEAD ? "GET" : head.method.rawValue
            let request = WebRequest(method: method, uri: head.uri, origin: head.headers.first(name: "Origin"),
                                     host: head.headers.first(name: "Host"),
                                     authorization: head.headers.first(name: "Authorization"),
                                     cookie: head.headers.first(name: "Cookie"),
                                     contentType: head.headers.first(name: "Content-Type"), body: body)
            body = Data()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let router = self.router
            let eventLoop = context.eventLoop
            // Off the event loop: a route may block (a cancel talks to the master over its own port).
            DispatchQueue.global().async {
                let response = router.respond(to: request)
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.write(response, isHead: head.method == .HEAD, version: head.version, context: context)
                }
            }
        }
    }

    private func write(_ response: WebResponse, isHead: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        if response.stream == nil { headers.add(name: "Content-Length", value: "\(response.body.count)") }
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        if let location = response.location { headers.add(name: "Location", value: location) }
        if let cookie = response.setCookie { headers.add(name: "Set-Cookie", value: cookie) }
        if let name = response.attachment {
            let safe = name.filter { $0.isASCII && $0 != "\"" && $0 != "\\" && !$0.isNewline }
            headers.add(name: "Content-Disposition", value: "attachment; filename=\"\(safe)\"")
        }
        for (name, value) in SecurityHeaders.all { headers.add(name: name, value: value) }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status),
                                    headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let stream = response.stream, !isHead {
            return writeStream(stream, context: context)
        }
        if !isHead {
            var buffer = context.channel.allocator.buffer(capacity: response.body.count)
            buffer.writeBytes(response.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Chunked: each piece is written and flushed from a background thread, which waits for it to
    /// go out before producing the next, so a slow reader holds one piece, not the whole body.
    /// A large download may take longer than the answer deadline; a reader that stops reading for
    /// `stallTimeout` is cut off, so it cannot hold the writing thread.
    private func writeStream(_ stream: BodyStream, context: ChannelHandlerContext) {
        context.flush()
        deadline?.cancel()
        let channel = context.channel
        let stall = stallTimeout
        DispatchQueue.global().async {
            do {
                try stream.produce { data in
                    var buffer = channel.allocator.buffer(capacity: data.count)
                    buffer.writeBytes(data)
                    let cutOff = channel.eventLoop.scheduleTask(in: stall) { channel.close(promise: nil) }
                    defer { cutOff.cancel() }
                    try channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).wait()
                }
                channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
            } catch {
                channel.close(promise: nil)  // the client sees a cut-off body, never a wrong one
            }
        }
    }
}

/// Sent with every response: no scripts at all, styles only inline (the pages have no others),
/// never framed (clickjacking), never sniffed into another type, no referrer to other sites (`same-origin`: with `no-referrer` a browser sends `Origin: null` on its own forms, which the CSRF check must refuse).
enum SecurityHeaders {
    static let all: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
    ]
}

/// Connections being served, against sextant.ui.maxConnections.
/// @unchecked: `lock` guards `count`.
final class OpenConnections: @unchecked Sendable {
    let limit: Int
    private let lock = NSLock()
    private var count = 0

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard count < limit else { return false }
        count += 1
        return true
    }

    func leave() {
        lock.lock(); count -= 1; lock.unlock()
    }
}
