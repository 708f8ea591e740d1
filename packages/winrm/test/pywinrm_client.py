"""Drives a WinRM endpoint with pywinrm for pywinrm.test.ts and the bench (started by pywinrm.ts).

Reads one JSON line on stdin:
  {"session": {<winrm.Session keyword arguments, plus "target" and "auth": [user, password]>},
   "steps": [{"op": "run_cmd", "command": "...", "args": [...]},
             {"op": "run_ps", "script": "..."},
             {"op": "shell", "commands": [{"command": "...", "args": [...]}, ...]}]}
and prints one JSON object on stdout: {"results": [...]}, one entry per step, each
{"std_out", "std_err", "status_code"} (a "shell" step gives {"commands": [those]}) or {"error": "..."}.

With "loop": {"mode": "fresh" | "reused", "command": "..." or "script": "...", "std_out": "...", "seconds": n,
"batches": k (default 1)} instead of "steps" it benchmarks: one warm-up command (connects and
authenticates), then prints {"warm": true} and waits for a line on stdin; k times: runs the command
back to back for n seconds (a new shell each time, or one shell), prints {"latencies_ms": [...],
"elapsed_ms": ..., "cpu_ms": <this process's CPU time during the batch>} and waits for another line (before the next batch, or before closing the shell),
so the caller can read the server's counters around exactly the timed commands and run other
clients between the batches. A "script" runs as PowerShell: run_ps with a new shell each time; in one shell,
run_command with the command line run_ps builds (run_ps itself always opens a shell of its own).
"""
import json
import sys
import time
import traceback
from base64 import b64encode
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


def loop(session, spec, out):
    protocol = session.protocol
    reused = spec["mode"] == "reused"
    shell_id = protocol.open_shell() if reused else None

    script = spec.get("script")
    # What run_ps sends (pywinrm 0.3.0, Session.run_ps).
    command = spec["command"] if script is None else "powershell -encodedcommand {0}".format(b64encode(script.encode("utf_16_le")).decode("ascii"))

    def once():
        if reused:
            command_id = protocol.run_command(shell_id, command)
            std_out, std_err, status_code = protocol.get_command_output(shell_id, command_id)
            protocol.cleanup_command(shell_id, command_id)
        else:
            rs = session.run_cmd(command) if script is None else session.run_ps(script)
            std_out, std_err, status_code = rs.std_out, rs.std_err, rs.status_code
        if text(std_out) != spec["std_out"] or status_code != 0:
            raise RuntimeError("unexpected result %r" % (response(std_out, std_err, status_code),))

    def say(value):
        out.write(json.dumps(value) + "\n")
        out.flush()
        sys.stdin.readline()

    once()
    say({"warm": True})
    for _ in range(spec.get("batches", 1)):
        latencies = []
        cpu = time.process_time()
        started = time.perf_counter()
        end = started + spec["seconds"]
        while time.perf_counter() < end:
            t = time.perf_counter()
            once()
            latencies.append((time.perf_counter() - t) * 1000)
        elapsed_ms = (time.perf_counter() - started) * 1000
        say({"latencies_ms": latencies, "elapsed_ms": elapsed_ms, "cpu_ms": (time.process_time() - cpu) * 1000})
    if reused:
        protocol.close_shell(shell_id)


def main():
    spec = json.loads(sys.stdin.readline())
    options = dict(spec["session"])
    target = options.pop("target")
    auth = tuple(options.pop("auth"))
    results = []
    out = sys.stdout
    # pywinrm prints warnings with print(); keep stdout for the JSON answer.
    with redirect_stdout(sys.stderr):
        session = Session(target, auth=auth, **options)
        if "loop" in spec:
            return loop(session, spec["loop"], out)
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
