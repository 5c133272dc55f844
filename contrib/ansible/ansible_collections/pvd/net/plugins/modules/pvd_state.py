#!/usr/bin/python3
# pvd.net.pvd_state: pvdd's declared state from Ansible, through `pvd apply`.
# GPL-2.0-or-later, as pvd.

DOCUMENTATION = r"""
module: pvd_state
short_description: Make pvdd's declared state (static domains, VPN domains, namespaces) what the play says
description:
  - Applies the declared state with C(pvd apply) on the managed host, all or nothing; what would change comes
    from C(pvd apply --check --json), so check mode changes nothing and diff mode shows the declared state
    before and after.
  - Either the whole state (I(declared) or I(src)), or one entry (I(name) with I(state)), the others kept.
  - With I(confirm_within), the change is made under a pvdd checkpoint and left pending; a later task with
    I(confirm=true) confirms it. When the change cuts the controller off, that task never runs and pvdd rolls
    the change back by itself when the time runs out.
options:
  declared:
    description: The whole declared state, as C(pvd show --yaml) prints it (keys domains, vpns, namespaces).
    type: dict
  src:
    description: A file on the managed host with the whole declared state.
    type: path
  name:
    description: One entry to add, change or remove; the other entries stay.
    type: str
  state:
    description: Whether the entry I(name) is there.
    type: str
    choices: [present, absent]
    default: present
  domain:
    description: The settings of a static domain I(name) (uplink, addresses, routers, on_link, routes, mtu, dns, search, ports).
    type: dict
  vpn:
    description: The settings of a VPN domain I(name) (openvpn, wireguard, openconnect or command, and connect-within).
    type: dict
  confirm_within:
    description: Seconds; apply under a checkpoint that is rolled back unless a later task confirms it.
    type: int
  verify:
    description: Verify what the change added or changed, and roll it back when a check fails.
    type: bool
    default: false
  confirm:
    description: Confirm the pending checkpoint (alone, without a state).
    type: bool
    default: false
  pvd:
    description: The pvd command.
    type: str
    default: pvd
notes:
  - A I(name) with neither I(domain) nor I(vpn) is a bare namespace.
"""

EXAMPLES = r"""
- name: The site's domains, rolled back unless the next task can still reach the host
  pvd.net.pvd_state:
    src: /etc/pvd/site.yaml
    confirm_within: 120
    verify: true
- name: Still here
  pvd.net.pvd_state:
    confirm: true
- name: One VPN domain
  pvd.net.pvd_state:
    name: corp
    vpn: {openvpn: /etc/pvd/corp.ovpn, connect-within: 20}
- name: Gone
  pvd.net.pvd_state:
    name: lab
    state: absent
"""

RETURN = r"""
changes:
  description: What the apply changed (or would change, in check mode).
  type: list
  elements: str
  returned: always
checkpoint:
  description: The pending checkpoint's object path, with confirm_within.
  type: str
  returned: when a checkpoint was left pending
verification:
  description: The verification's checks (domain, check, passed, detail, time).
  type: list
  returned: with verify or confirm_within
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

try:
    import yaml
except ImportError:  # ansible-core depends on PyYAML; say so if it is missing anyway
    yaml = None


def run_pvd(module, *arguments, check_rc=True):
    rc, out, err = module.run_command([module.params["pvd"]] + list(arguments))
    if check_rc and rc != 0:
        module.fail_json(msg="pvd %s: %s" % (arguments[0], (err or out).strip()), rc=rc)
    return rc, out, err


def current_state(module):
    if yaml is None:
        module.fail_json(msg="PyYAML is needed to change one entry (python3-yaml)")
    _, out, _ = run_pvd(module, "show", "--yaml")
    state = yaml.safe_load(out) or {}
    return {key: state.get(key) or [] for key in ("domains", "vpns", "namespaces")}


def with_entry(module, state):
    """The current state with the entry `name` as the play says."""
    name = module.params["name"]
    entry_state = {
        "domains": [d for d in state["domains"] if d.get("name") != name],
        "vpns": [v for v in state["vpns"] if v.get("name") != name],
        "namespaces": [n for n in state["namespaces"] if n != name],
    }
    if module.params["state"] == "present":
        if module.params["domain"] is not None:
            entry_state["domains"].append(dict(module.params["domain"], name=name))
        elif module.params["vpn"] is not None:
            entry_state["vpns"].append(dict(module.params["vpn"], name=name))
        else:
            entry_state["namespaces"].append(name)
    return entry_state


def apply_json(module, path, *options):
    rc, out, err = run_pvd(module, "apply", path, "--json", *options, check_rc=False)
    try:
        report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    except ValueError:
        report = {}
    if rc not in (0, 2) or (rc == 2 and "--check" not in options):
        module.fail_json(msg="pvd apply: %s" % (err or out).strip(), rc=rc, **report)
    return report


def main():
    module = AnsibleModule(
        argument_spec=dict(
            declared=dict(type="dict"),
            src=dict(type="path"),
            name=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            domain=dict(type="dict"),
            vpn=dict(type="dict"),
            confirm_within=dict(type="int"),
            verify=dict(type="bool", default=False),
            confirm=dict(type="bool", default=False),
            pvd=dict(type="str", default="pvd"),
        ),
        mutually_exclusive=[("declared", "src", "name", "confirm"), ("domain", "vpn")],
        required_one_of=[("declared", "src", "name", "confirm")],
        supports_check_mode=True,
    )
    params = module.params
    if params["confirm"]:
        if module.check_mode:
            module.exit_json(changed=False, changes=[], msg="check mode: the pending checkpoint, if any, is left as it is")
        rc, out, err = run_pvd(module, "confirm", check_rc=False)
        if rc != 0 and "no checkpoint is pending" in (err + out):
            module.exit_json(changed=False, changes=[], msg="no checkpoint is pending")
        if rc != 0:
            module.fail_json(msg="pvd confirm: %s" % (err or out).strip(), rc=rc)
        module.exit_json(changed=True, changes=[], msg=out.strip())

    if params["src"]:
        path, temporary = params["src"], None
    else:
        state = params["declared"] if params["declared"] is not None else with_entry(module, current_state(module))
        handle, temporary = tempfile.mkstemp(prefix="pvd_state.", suffix=".yaml")
        with os.fdopen(handle, "w") as file:
            json.dump(state, file)  # JSON is YAML: pvd apply reads it as such
        path = temporary
    try:
        planned = apply_json(module, path, "--check")
        result = dict(changed=bool(planned.get("changed")), changes=planned.get("changes", []))
        if module._diff and "diff" in planned:
            result["diff"] = planned["diff"]
        if module.check_mode or not result["changed"]:
            module.exit_json(**result)
        options = []
        if params["confirm_within"] is not None:
            options += ["--confirm-within", str(params["confirm_within"]), "--no-wait"]
        if params["verify"]:
            options.append("--verify")
        report = apply_json(module, path, *options)
        result["changes"] = report.get("changes", result["changes"])
        for key in ("checkpoint", "verification"):
            if report.get(key) is not None:
                result[key] = report[key]
        module.exit_json(**result)
    finally:
        if temporary:
            os.unlink(temporary)


if __name__ == "__main__":
    main()
