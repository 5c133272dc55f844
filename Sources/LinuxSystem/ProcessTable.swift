import Glibc

/// The processes under /proc, read without allocating a view of each.
public enum ProcessTable {
    /// The first pid for which `matches` (given /proc's descriptor and the pid as text) holds.
    public static func first(where matches: (Int32, String) -> Bool) -> String? {
        guard let directory = opendir("/proc") else { return nil }
        defer { closedir(directory) }
        let proc = dirfd(directory)
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = pid.utf8.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { continue }
            if matches(proc, pid) { return pid }
        }
        return nil
    }

    /// The pids of `uid`'s processes that run `program`'s executable. One
    /// readlink per process: kernel threads and zombies have no executable,
    /// and other users' processes are not readable unless the caller is root.
    public static func processes(running program: Executable, uid: uid_t) -> [String] {
        let deleted = Array(" (deleted)".utf8)
        var path = [UInt8](repeating: 0, count: Int(PATH_MAX))
        var found: [String] = []
        _ = first { proc, pid in
            let count = path.withUnsafeMutableBytes { readlinkat(proc, "\(pid)/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
            guard count > 0 else { return false }
            var executable = path[..<count]
            if executable.count > deleted.count, Array(executable.suffix(deleted.count)) == deleted { executable = executable.dropLast(deleted.count) }
            var owner = stat()
            if program.matches(executable), fstatat(proc, pid, &owner, 0) == 0, owner.st_uid == uid { found.append(pid) }
            return false
        }
        return found
    }

    /// The processes running in the network namespaces named in `namespaces`
    /// (by the inode of their file under /run/netns): each with its
    /// namespace's name, pid, owner and command line (at most 512 bytes).
    /// Zombies and processes that end meanwhile are left out.
    public static func processes(inNamespaces namespaces: [ino_t: String]) -> [(namespace: String, pid: Int32, uid: uid_t, command: String)] {
        var found: [(namespace: String, pid: Int32, uid: uid_t, command: String)] = []
        _ = first { proc, pid in
            var network = stat()
            guard fstatat(proc, "\(pid)/ns/net", &network, 0) == 0, let namespace = namespaces[network.st_ino], let number = Int32(pid) else { return false }
            var owner = stat()
            guard fstatat(proc, pid, &owner, 0) == 0, let command = commandLine(of: number) else { return false }
            found.append((namespace, number, owner.st_uid, command))
            return false
        }
        return found.sorted { ($0.namespace, $0.pid) < ($1.namespace, $1.pid) }
    }

    /// Process `pid`'s command line (at most 512 bytes, arguments joined by
    /// spaces); nil when it has ended or is a zombie.
    public static func commandLine(of pid: Int32) -> String? {
        guard let cmdline = HostFiles.read("/proc/\(pid)/cmdline", limit: 512), !cmdline.isEmpty else { return nil }
        return cmdline.split(separator: "\0").joined(separator: " ")
    }

    /// Whether the process `pid` is alive and runs in another network
    /// namespace than the one open at `fd` (a process that has exited meanwhile is not).
    public static func process(_ pid: String, isOutsideNamespace fd: Int32) -> Bool {
        var namespace = stat()
        var process = stat()
        guard fstat(fd, &namespace) == 0, stat("/proc/\(pid)/ns/net", &process) == 0 else { return false }
        return process.st_ino != namespace.st_ino || process.st_dev != namespace.st_dev
    }
}

/// The executable a command runs, as /proc/PID/exe shows it: the file PATH
/// finds, with its symlinks resolved. For a script (a browser's wrapper), the
/// binary it starts shares the script's name instead: then the name is what
/// is compared.
public struct Executable: Sendable {
    public let path: [UInt8]
    /// The file name, when `path` is a script.
    public let scriptName: [UInt8]?

    /// The executable `command` (as execvp would find it), or nil when there is none.
    public init?(command: String) {
        var candidates: [String] = []
        if command.utf8.contains(UInt8(ascii: "/")) {
            candidates = [command]
        } else {
            let search = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
            candidates = search.split(separator: ":").map { "\($0.isEmpty ? "." : $0)/\(command)" }
        }
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }), let resolved = realpath(found, nil) else { return nil }
        defer { free(resolved) }
        path = Array(String(cString: resolved).utf8)
        var magic: [UInt8] = [0, 0]
        let fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        let isScript = fd >= 0 && read(fd, &magic, 2) == 2 && magic == [UInt8(ascii: "#"), UInt8(ascii: "!")]
        if fd >= 0 { close(fd) }
        scriptName = isScript ? Array(path[(path.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? 0)...]) : nil
    }

    public func matches(_ executable: ArraySlice<UInt8>) -> Bool {
        guard let scriptName else { return executable.elementsEqual(path) }
        let base = executable.lastIndex(of: UInt8(ascii: "/")).map { executable[($0 + 1)...] } ?? executable
        return base.elementsEqual(scriptName)
    }
}

/// ``ProcessTable/processes(running:uid:)`` on a thread of its own, so that
/// `pvd exec` reads /proc while it waits for pvdd and mounts the domain's
/// view. The thread reads /proc and nothing else; ``pids()`` joins it, which
/// `pvd exec` does before it changes credentials (per thread) and execs.
public final class ProcessSearch: @unchecked Sendable {
    private let program: Executable
    private let uid: uid_t
    private var found: [String] = []
    private var thread: pthread_t?

    /// Starts the search (or, when no thread can start, searches here).
    public init(program: Executable, uid: uid_t) {
        self.program = program
        self.uid = uid
        var thread = pthread_t()
        let started = pthread_create(
            &thread, nil,
            { context in
                let search = Unmanaged<ProcessSearch>.fromOpaque(context!).takeUnretainedValue()
                search.found = ProcessTable.processes(running: search.program, uid: search.uid)
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
        if started == 0 { self.thread = thread } else { found = ProcessTable.processes(running: program, uid: uid) }
    }

    /// The pids found, once the search has ended.
    public func pids() -> [String] {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
        return found
    }
}
