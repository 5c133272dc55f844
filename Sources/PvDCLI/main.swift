// pvd-cli: the command line behind `pvd`, which hands it every command but
// the `pvd exec` it runs itself (see Sources/pvd/main.swift).
import ArgumentParser
import PvDCore
import PvDExec

/// `pvd`: the command line of the provisioning-domain manager.
struct PvD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvd",
        abstract: "Provisioning domains as network namespaces.",
        version: PvDVersion.string,
        subcommands: [
            List.self, Show.self, Status.self, ProcessList.self, Monitor.self, Exec.self, DesktopEntryCommand.self, Add.self, Remove.self, Apply.self,
            Reload.self, RA.self, Announce.self, Lab.self,
        ])
}

/// `pvd ra …`: Router Advertisement tools that need no daemon.
struct RA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ra",
        abstract: "Decode Router Advertisements with their RFC 8801 PvD options.",
        subcommands: [RADecode.self])
}

// `pvd exec` for a user behind sudo comes here: skip argument-parser's start-up.
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "exec",
    let request = ExecRequest.parse(Array(CommandLine.arguments.dropFirst(2)))
{
    request.runHere()
}
PvD.main()
