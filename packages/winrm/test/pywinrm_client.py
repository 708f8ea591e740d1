"""Drives a WinRM endpoint with pywinrm for pywinrm.test.ts.

Reads one JSON object on stdin:
  {"session": {<winrm.Session keyword arguments, plus "target" and "auth": [user, password]>},
   "steps": [{"op": "run_cmd", "command": "...", "args": [...]},
             {"op": "run_ps", "script": "..."},
             {"op": "shell", "commands": [{"command": "...", "args": [...]}, ...]}]}
and prints one JSON object on stdout: {"results": [...]}, one entry per step, each
{"std_out", "std_err", "status_code"} (a "shell" step gives {"commands": [those]}) or {"error": "..."}.
"""
import json
import sys
import traceback
from contextlib import redirect_stdout

import winrm


class Session(winrm.Session):
    # pywinrm 0.3.0 bug: run_ps hands _clean_error_msg the stderr bytes on Python 3, and
    # bytes.startswith("#< CLIXML\r\n") raises TypeError, so any run_ps with stderr fails.
    # Decoding first lets pywinrm's own CLIXML cleaning run unchanged.
    def _clean_error_msg(self, msg):
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8")
        return super()._clean_error_msg(msg)


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


def response(std_out, std_err, status_code):
    return {"std_out": text(std_out), "std_err": text(std_err), "status_code": status_code}


def run_step(session, step):
    op = step["op"]
    if op == "run_cmd":
        rs = session.run_cmd(step["command"], step.get("args", []))
        return response(rs.std_out, rs.std_err, rs.status_code)
    if op == "run_ps":
        rs = session.run_ps(step["script"])
        return response(rs.std_out, rs.std_err, rs.status_code)
    if op == "shell":
        protocol = session.protocol
        shell_id = protocol.open_shell()
        results = []
        try:
            for command in step["commands"]:
                command_id = protocol.run_command(shell_id, command["command"], command.get("args", []))
                results.append(response(*protocol.get_command_output(shell_id, command_id)))
                protocol.cleanup_command(shell_id, command_id)
        finally:
            protocol.close_shell(shell_id)
        return {"commands": results}
    raise ValueError("unknown step op %r" % op)


def main():
    spec = json.load(sys.stdin)
    options = dict(spec["session"])
    target = options.pop("target")
    auth = tuple(options.pop("auth"))
    results = []
    # pywinrm prints warnings with print(); keep stdout for the JSON answer.
    with redirect_stdout(sys.stderr):
        session = Session(target, auth=auth, **options)
        for step in spec["steps"]:
            try:
                results.append(run_step(session, step))
            except Exception as error:
                traceback.print_exc()
                results.append({"error": "%s: %s" % (type(error).__name__, error)})
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
