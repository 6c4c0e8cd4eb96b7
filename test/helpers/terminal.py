#!/usr/bin/env python3
# Drives a command on a real pseudo-terminal, as a person at a terminal would: types, waits for output,
# resizes the window. Usage: terminal.py ROWS COLS STEPS_JSON -- COMMAND...
# Steps: {"expect": "text"} (wait up to 10 s for it), {"send": "text"}, {"resize": [rows, cols]},
# {"sleep": seconds}. Prints the whole transcript; exits with the command's exit code (124 on a timeout).
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

rows, cols, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
command = sys.argv[sys.argv.index('--') + 1:]

def set_size(fd, r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))

pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
set_size(fd, rows, cols)
transcript = b''

def read_some(timeout):
    global transcript
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        return False
    if not data:
        return False
    transcript += data
    return True

def fail(message):
    sys.stdout.write(transcript.decode(errors='replace'))
    sys.stderr.write(message + '\n')
    os.kill(pid, signal.SIGKILL)
    sys.exit(124)

seen = 0
for step in steps:
    if 'expect' in step:
        want = step['expect'].encode()
        deadline = time.time() + 10
        while transcript.find(want, seen) < 0:
            if time.time() > deadline or not read_some(0.1) and transcript.find(want, seen) < 0:
                fail('timed out waiting for %r' % step['expect'])
        seen = transcript.find(want, seen) + len(want)
    elif 'send' in step:
        os.write(fd, step['send'].encode())
    elif 'resize' in step:
        set_size(fd, *step['resize'])  # the kernel sends SIGWINCH to the terminal's foreground group
    elif 'sleep' in step:
        end = time.time() + step['sleep']
        while time.time() < end:
            read_some(max(0, end - time.time()))

deadline = time.time() + 15
while True:
    open_ = read_some(0.1)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        while read_some(0.05):
            pass
        break
    if time.time() > deadline:
        fail('timed out waiting for the command to end')
    if not open_:
        time.sleep(0.05)
sys.stdout.write(transcript.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(status))
