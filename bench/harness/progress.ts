// The progress line on stderr.

/** One status line on stderr: rewritten in place on a terminal, a line every 2 s otherwise. */
export function progress(label: string) {
  const tty = process.stderr.isTTY;
  let last = 0;
  let text = '';
  const write = (final: boolean) => {
    if (tty) process.stderr.write(`\r\x1b[2K${label}: ${text}${final ? '\n' : ''}`);
    else process.stderr.write(`${label}: ${text}\n`);
  };
  return {
    update(t: string) {
      text = t;
      const now = performance.now();
      if (now - last >= (tty ? 200 : 2000)) {
        last = now;
        write(false);
      }
    },
    done(t?: string) {
      if (t !== undefined) text = t;
      write(true);
    },
  };
}
