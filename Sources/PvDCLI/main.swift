// pvd-cli: the command line behind `pvd`, which hands it every command but
// the `pvd exec` it runs itself (see Sources/pvd/main.swift).
import CommandSyntax
import PvDCore
import PvDExec

/// `pvd`: the command line of the provisioning-domain manager.
let pvdCommand = Command(
    "pvd", abstract: "Provisioning domains as network namespaces.",
    subcommands: [
        List.command, Show.command, Status.command, ProcessList.command, Monitor.command, Exec.command, Which.command, Connect.command,
        DesktopEntryCommand.command,
        Add.command, Remove.command, Apply.command, Confirm.command, Rollback.command, Verify.command, Stage.command, Commit.command,
        Reload.command, Publish.command, Service.command, Wait.command,
        Command("ra", abstract: "Decode Router Advertisements with their RFC 8801 PvD options.", subcommands: [RADecode.command]),
        Announce.command, Lab.command,
    ],
    version: PvDVersion.string)

// `pvd exec` for a user behind sudo comes here: the shortest way.
if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "exec",
    let request = ExecRequest.parse(Array(CommandLine.arguments.dropFirst(2)))
{
    request.runHere()
}
pvdCommand.main()
