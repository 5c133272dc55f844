import CPvDShim
import Glibc
import PvDCore

/// A helper program started by the daemon, its output going to unlinked
/// temporary files (never pipes: a child that writes much cannot block, and
/// ``RLIMIT_FSIZE`` set by the child bounds what it can write).
public struct ChildProcess {
    public let pid: pid_t
    private let output: Int32
    private let errors: Int32

    /// Starts `path` with `arguments`, stdin from /dev/null, this environment
    /// plus `environment`, the default signal mask and dispositions, and
    /// output and errors kept for ``collect(limit:)``.
    public static func spawn(
        _ path: String, _ arguments: [String], scratch directory: String, environment: [String: String] = [:]
    ) throws(SystemError) -> ChildProcess {
        let output = try temporaryFile(in: directory)
        let errors: Int32
        do { errors = try temporaryFile(in: directory) } catch {
            close(output)
            throw error
        }
        do {
            let pid = try launch(path, arguments, environment: environment) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_adddup2(&actions, output, 1)
                posix_spawn_file_actions_adddup2(&actions, errors, 2)
            }
            return ChildProcess(pid: pid, output: output, errors: errors)
        } catch {
            close(output)
            close(errors)
            throw error
        }
    }

    /// Runs `path` to its end (``spawn(_:_:scratch:environment:)``): its wait
    /// status, nil when it could not start, and what it wrote to stdout and
    /// stderr, each at most `limit` bytes.
    public static func run(
        _ path: String, _ arguments: [String], scratch directory: String, environment: [String: String] = [:], limit: Int = 65536
    ) -> (status: Int32?, output: [UInt8], errors: [UInt8]) {
        guard let child = try? spawn(path, arguments, scratch: directory, environment: environment) else { return (nil, [], []) }
        let status = try? child.waitForExit()
        let (output, errors) = child.collect(limit: limit)
        return (status, output, errors)
    }

    /// Starts `path` with `arguments` for the long run: stdin from `input`
    /// (default /dev/null), stdout and stderr appended to `log` (so a
    /// client's own complaints are kept with its log; nil: this process's
    /// own), this environment plus `environment`, the default signal mask
    /// and dispositions, in `directory` (nil: this process's). Returns the pid.
    public static func spawnLogging(
        _ path: String, _ arguments: [String], log: String?, input: String = "/dev/null", environment: [String: String] = [:],
        directory: String? = nil
    ) throws(SystemError) -> pid_t {
        try launch(path, arguments, environment: environment) { actions in
            if let directory { pvd_spawn_addchdir(&actions, directory) }
            posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY | O_NOFOLLOW, 0)
            if let log {
                posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0o600)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            }
        }
    }

    /// posix_spawn with the file actions `setUp` adds, the default signal
    /// mask and default dispositions.
    private static func launch(
        _ path: String, _ arguments: [String], environment: [String: String] = [:], _ setUp: (inout posix_spawn_file_actions_t) -> Void
    ) throws(SystemError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        setUp(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var inherited: [String] = []
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if !environment.keys.contains(where: { text.hasPrefix($0 + "=") }) { inherited.append(text) }
            entry += 1
        }
        let envp = (inherited + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard result == 0 else { throw systemError("start", path, errno: result) }
        return pid
    }

    /// What the child wrote to stdout and stderr (each at most `limit` bytes);
    /// closes the files. Call once, after the child ended.
    public func collect(limit: Int) -> (output: [UInt8], errors: [UInt8]) {
        defer {
            close(output)
            close(errors)
        }
        return (ChildProcess.read(output, limit: limit), ChildProcess.read(errors, limit: limit))
    }

    /// Waits for the child to end (for short helpers run in place); its wait status.
    public func waitForExit() throws(SystemError) -> Int32 {
        try ChildProcess.wait(pid)
    }

    /// Waits for the child `pid` to end, through EINTR; its wait status.
    public static func wait(_ pid: pid_t) throws(SystemError) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw systemError("wait for", "process \(pid)") }
        }
        return status
    }

    /// The wait status of the child `pid` when it has ended, nil while it runs.
    public static func exitStatus(of pid: pid_t) -> Int32? {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid ? status : nil
    }

    /// How ``wait(for:timeout:until:)`` ended.
    public enum Readiness: Equatable {
        /// `ready` said so.
        case ready
        /// The child ended first, with this wait status.
        case exited(Int32)
        /// Neither within the time.
        case timedOut
    }

    /// Looks every 50 ms, for at most `timeout` seconds, whether the child
    /// `pid` is `ready` (a line in its log) or has ended: for programs that
    /// say they are ready only in their output.
    public static func wait(for pid: pid_t, timeout: Double, until ready: () -> Bool) -> Readiness {
        var exited: Int32?
        let ended = pollUntil(seconds: timeout) {
            if ready() { return true }
            exited = exitStatus(of: pid)
            return exited != nil
        }
        guard ended else { return .timedOut }
        return exited.map { .exited($0) } ?? .ready
    }

    /// Stops the child (SIGKILL); its exit is still reported to the watcher.
    public func kill() {
        Glibc.kill(pid, SIGKILL)
    }

    private static func read(_ fd: Int32, limit: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: limit)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, limit, 0) }
        return Array(bytes.prefix(max(0, count)))
    }

    private static func temporaryFile(in directory: String) throws(SystemError) -> Int32 {
        var template = Array("\(directory)/.child-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else { throw systemError("create a scratch file", directory) }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }
}
