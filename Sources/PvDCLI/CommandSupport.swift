import CommandSyntax
import Glibc
import LinuxSystem
import PvDCore

// What every command shares: how it is made from its command line, how a
// failure is told, and reading input files.

/// A command of `pvd`: made from what its command line gave, then run.
protocol CommandLineCommand {
    /// The command's name, options, arguments and help.
    static var command: Command { get }
    /// Reads the command line; a usage error when it does not fit.
    init(_ arguments: Arguments) throws(UsageError)
    func run() throws
}

extension CommandLineCommand {
    /// The ``Command/action`` of every command: read, then run.
    static func action(_ arguments: Arguments) throws { try Self(arguments).run() }
}

/// Reports a usage or input problem on stderr and exits with status 2.
func failure(_ message: String) -> ExitStatus {
    printError(message)
    return ExitStatus(2)
}

/// A command that could not do its work (not a usage error): told in one line, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body`; a ``CommandFailure`` is printed as one line and ends with status 1.
func reportingFailures(_ body: () throws -> Void) throws {
    do { try body() } catch let error as CommandFailure {
        printError(error.description)
        throw ExitStatus(1)
    }
}

/// Reads a whole file, or stdin when `path` is nil; a usage error when it cannot.
func readInput(path: String?, limit: Int) throws -> [UInt8] {
    do { return try readFile(path, limit: limit) } catch { throw failure(error.description) }
}

/// A whole file, or stdin when `path` is nil, of at most `limit` bytes (a
/// device or a pipe that never ends is cut off there); the failure names the
/// file and says why it cannot be read.
func readFile(_ path: String?, limit: Int) throws(CommandFailure) -> [UInt8] {
    let name = path ?? "stdin"
    let data: [UInt8]
    do {
        if let path {
            data = try FileDescriptor.open(path, O_RDONLY).readAll(limit: limit)
        } else {
            let input = FileDescriptor(taking: STDIN_FILENO)
            let read = Result { () throws(SystemError) in try input.readAll(limit: limit) }
            _ = input.release()  // stdin stays open
            data = try read.get()
        }
    } catch {
        throw CommandFailure("\(name): \(error.reason)")
    }
    guard data.count <= limit else { throw CommandFailure("\(name): longer than \(limit) bytes; pvd reads at most that") }
    return data
}
