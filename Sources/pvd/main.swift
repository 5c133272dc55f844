import LinuxSystem
import PvDExec

// pvd: the command line. This program is linked statically and loads no
// shared library: `pvd exec`, on the path of every program started in a
// domain, starts in about a millisecond, and the file capability that lets
// users run it holds only in pvd's own code (no NSS module, no libsystemd).
// It runs `pvd exec` itself; everything else, and `pvd exec` by root for
// the user behind sudo (whose groups need the user database's modules),
// goes to pvd-cli (beside it, or in PREFIX/libexec/pvd), which the exec
// starts without capabilities. `pvd fetch-information` is pvdd's helper
// for additional information (root only; see InformationFetch).

let arguments = CommandLine.arguments
InformationFetch.runIfAsked(arguments)
if arguments.count > 2, arguments[1] == "exec", let request = ExecRequest.parse(Array(arguments.dropFirst(2))),
    !request.needsUserDatabase
{
    request.run(lookingUpUsersWith: nil)
}
Programs.exec("pvd-cli", argv: arguments)
