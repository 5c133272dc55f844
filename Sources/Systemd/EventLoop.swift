import CPvDShim
import CSystemd
import Glibc
import LinuxSystem
import PvDCore

/// The daemon's one event loop (sd-event): readable descriptors, one
/// re-armable timer on CLOCK_BOOTTIME, and signals. Handlers run on the
/// loop's thread, one at a time.
public final class EventLoop {
    /// The sd-event loop, for what attaches to it (the bus).
    let event: OpaquePointer
    private var handlers: [Handler] = []
    private var timer: OpaquePointer?
    /// Child processes watched by ``onExit(of:_:)``: their event source and handler.
    private var children: [pid_t: (source: OpaquePointer, handler: Handler)] = [:]
    /// Descriptors watched by ``watchUntilStopped(_:name:_:)``: their event sources and handlers.
    private var stoppable: [ObjectIdentifier: (source: OpaquePointer, handler: Handler)] = [:]
    /// Processes watched by ``onExit(ofAdopted:_:)``: their event sources.
    private var adopted: [ObjectIdentifier: OpaquePointer] = [:]

    public init() throws(SystemError) {
        var event: OpaquePointer?
        let result = sd_event_new(&event)
        guard result >= 0, let event else { throw systemError("create event loop", "", errno: -result) }
        self.event = event
    }

    deinit {
        if let timer { sd_event_source_unref(timer) }
        for child in children.values { sd_event_source_unref(child.source) }
        for source in adopted.values { sd_event_source_unref(source) }
        sd_event_unref(event)
    }

    /// Seconds on CLOCK_BOOTTIME, as the loop sees them (stable within one handler).
    /// A turn longer than this is told to ``onLongTurn``: RAs and bus calls wait meanwhile.
    public static let longTurn = 0.010
    /// Told what a handler served and how many seconds it held the loop, when over ``longTurn``.
    public var onLongTurn: ((String, Double) -> Void)?

    public var now: Double {
        var microseconds: UInt64 = 0
        sd_event_now(event, clockid_t(CLOCK_BOOTTIME), &microseconds)
        return Double(microseconds) / 1e6
    }

    /// Calls `handler` whenever `descriptor` is readable.
    public func watch(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError) {
        let box = Handler(name, loop: self, io: handler)
        handlers.append(box)
        let result = sd_event_add_io(
            event, nil, descriptor, UInt32(EPOLLIN.rawValue),
            { _, _, _, context in
                Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.io?() }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        guard result >= 0 else { throw systemError("watch descriptor \(descriptor)", "", errno: -result) }
    }

    /// Calls `handler` whenever `descriptor` is readable (or closed by the
    /// other end) until ``stopWatching(_:)``; the caller keeps the descriptor.
    public func watchUntilStopped(_ descriptor: Int32, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier {
        let box = Handler(name, loop: self, io: handler)
        var source: OpaquePointer?
        let result = sd_event_add_io(
            event, &source, descriptor, UInt32(EPOLLIN.rawValue | EPOLLRDHUP.rawValue),
            { _, _, _, context in
                Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.io?() }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        guard result >= 0, let source else { throw systemError("watch descriptor \(descriptor)", "", errno: -result) }
        let id = ObjectIdentifier(box)
        stoppable[id] = (source, box)
        return id
    }

    /// Stops a watch of ``watchUntilStopped(_:name:_:)`` (also from its own handler).
    public func stopWatching(_ id: ObjectIdentifier) {
        guard let (source, _) = stoppable.removeValue(forKey: id) else { return }
        sd_event_source_disable_unref(source)
    }

    /// Blocks `signals` for the process and calls `handler` with each one received.
    public func onSignals(_ signals: [Int32], _ handler: @escaping (Int32) -> Void) throws(SystemError) {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        sigprocmask(SIG_BLOCK, &set, nil)
        let box = Handler("a signal", loop: self, signal: handler)
        handlers.append(box)
        for signal in signals {
            let result = sd_event_add_signal(
                event, nil, signal,
                { _, info, context in
                    Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.signal?(Int32(info!.pointee.ssi_signo)) }
                    return 0
                }, Unmanaged.passUnretained(box).toOpaque())
            guard result >= 0 else { throw systemError("watch signal \(signal)", "", errno: -result) }
        }
    }

    /// Calls `handler` once at `time` (seconds on CLOCK_BOOTTIME); a later call
    /// moves the timer, nil stops it.
    public func setTimer(at time: Double?, _ handler: @escaping () -> Void) throws(SystemError) {
        let microseconds = time.map { UInt64(max(0, $0) * 1e6) } ?? UInt64.max
        if timer == nil {
            let box = Handler("the expiry timer", loop: self, io: handler)
            handlers.append(box)
            var source: OpaquePointer?
            let result = sd_event_add_time(
                event, &source, clockid_t(CLOCK_BOOTTIME), microseconds, 1000,
                { _, _, context in
                    Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.io?() }
                    return 0
                }, Unmanaged.passUnretained(box).toOpaque())
            guard result >= 0 else { throw systemError("add timer", "", errno: -result) }
            timer = source
        } else {
            let result = sd_event_source_set_time(timer, microseconds)
            guard result >= 0 else { throw systemError("move timer", "", errno: -result) }
        }
        let enabled = sd_event_source_set_enabled(timer, time == nil ? Int32(SD_EVENT_OFF) : Int32(SD_EVENT_ONESHOT))
        guard enabled >= 0 else { throw systemError("arm timer", "", errno: -enabled) }
    }

    /// Calls `handler` once at `time` (seconds on CLOCK_BOOTTIME) unless
    /// ``stopWatching(_:)`` is given the returned identifier first. Besides
    /// the daemon's one expiry timer, for what waits on its own (a name being resolved).
    public func addTimer(at time: Double, name: String, _ handler: @escaping () -> Void) throws(SystemError) -> ObjectIdentifier {
        let box = Handler(name, loop: self, io: {})
        let id = ObjectIdentifier(box)
        box.io = { [unowned self] in
            if let (source, _) = self.stoppable.removeValue(forKey: id) { sd_event_source_unref(source) }
            handler()
        }
        var source: OpaquePointer?
        let result = sd_event_add_time(
            event, &source, clockid_t(CLOCK_BOOTTIME), UInt64(max(0, time) * 1e6), 1000,
            { _, _, context in
                let box = Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue()
                withExtendedLifetime(box) { box.timed { $0.io?() } }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        guard result >= 0, let source else { throw systemError("add timer", "", errno: -result) }
        stoppable[id] = (source, box)
        return id
    }

    /// Calls `handler` once when the child `pid` ends, with its exit status
    /// (128 + the signal number if a signal ended it); sd-event reaps it.
    /// SIGCHLD must be blocked (``blockChildSignal()``) before the child is made.
    public func onExit(of pid: pid_t, _ handler: @escaping (Int32) -> Void) throws(SystemError) {
        let box = Handler(
            "process \(pid)'s exit", loop: self,
            child: { [unowned self] pid, status in
                if let child = self.children.removeValue(forKey: pid) { sd_event_source_unref(child.source) }
                handler(status)
            })
        var source: OpaquePointer?
        let result = sd_event_add_child(
            event, &source, pid, WEXITED,
            { _, info, context in
                let info = info!.pointee
                let value = info._sifields._sigchld.si_status
                let status = info.si_code == Int32(CLD_EXITED) ? value : 128 + value
                Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.child?(info._sifields._sigchld.si_pid, status) }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        guard result >= 0, let source else { throw systemError("watch child \(pid)", "", errno: -result) }
        children[pid] = (source, box)
    }

    /// Calls `handler` once `pid`, a process that is not this one's child (a
    /// VPN client an earlier pvdd started), has exited; false when it is gone already.
    public func onExit(ofAdopted pid: pid_t, _ handler: @escaping () -> Void) throws(SystemError) -> Bool {
        let pidfd = pvd_pidfd_open(pid)
        guard pidfd >= 0 else {
            if errno == ESRCH { return false }
            throw systemError("watch process \(pid)", "", errno: errno)
        }
        var source: OpaquePointer?
        let box = Handler("process \(pid)'s end", loop: self, io: {})
        box.io = { [unowned self, unowned box] in
            if let source = self.adopted.removeValue(forKey: ObjectIdentifier(box)) { sd_event_source_unref(source) }
            close(pidfd)
            handler()
        }
        let result = sd_event_add_io(
            event, &source, pidfd, UInt32(EPOLLIN.rawValue),
            { _, _, _, context in
                Unmanaged<Handler>.fromOpaque(context!).takeUnretainedValue().timed { $0.io?() }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
        guard result >= 0, let source else {
            close(pidfd)
            throw systemError("watch process \(pid)", "", errno: -result)
        }
        handlers.append(box)
        adopted[ObjectIdentifier(box)] = source
        return true
    }

    /// Blocks SIGCHLD for the process so that sd-event can watch children.
    public static func blockChildSignal() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGCHLD)
        sigprocmask(SIG_BLOCK, &set, nil)
    }

    /// Runs until ``exit(_:)``; returns the exit code.
    public func run() throws(SystemError) -> Int32 {
        let result = sd_event_loop(event)
        guard result >= 0 else { throw systemError("run event loop", "", errno: -result) }
        return result
    }

    public func exit(_ code: Int32) {
        sd_event_exit(event, code)
    }

    /// Tells systemd (Type=notify) that the daemon is ready; a no-op outside systemd.
    public static func notifyReady() {
        sd_notify(0, "READY=1")
    }
}

/// Closures reached from sd-event's C callbacks through a context pointer,
/// each call timed (``EventLoop/onLongTurn``).
private final class Handler {
    var io: (() -> Void)?
    var signal: ((Int32) -> Void)?
    var child: ((pid_t, Int32) -> Void)?
    /// What the handler serves, for the log of a long turn.
    let label: String
    weak var loop: EventLoop?

    init(_ label: String, loop: EventLoop, io: @escaping () -> Void) { (self.label, self.loop, self.io) = (label, loop, io) }
    init(_ label: String, loop: EventLoop, signal: @escaping (Int32) -> Void) { (self.label, self.loop, self.signal) = (label, loop, signal) }
    init(_ label: String, loop: EventLoop, child: @escaping (pid_t, Int32) -> Void) { (self.label, self.loop, self.child) = (label, loop, child) }

    /// Runs `body`; tells the loop when it took longer than ``EventLoop/longTurn``.
    func timed(_ body: (Handler) -> Void) {
        let start = SystemClock.monotonic
        body(self)
        let seconds = SystemClock.monotonic - start
        if seconds > EventLoop.longTurn, let loop, let report = loop.onLongTurn { report(label, seconds) }
    }
}
