import ArgumentParser

/// `pvd`: the command line of the provisioning-domain manager.
struct PvD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pvd",
        abstract: "Provisioning domains as network namespaces.",
        subcommands: [List.self, Show.self, Status.self, Monitor.self, Exec.self, Add.self, Remove.self, Apply.self, RA.self])
}

/// `pvd ra …`: Router Advertisement tools that need no daemon.
struct RA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ra",
        abstract: "Decode Router Advertisements with their RFC 8801 PvD options.",
        subcommands: [RADecode.self])
}

if CommandLine.arguments.count > 2, CommandLine.arguments[1] == "exec",
   let request = ExecRequest.parse(Array(CommandLine.arguments.dropFirst(2))) {
    request.run()
}
PvD.main()
