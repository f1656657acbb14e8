/** A one-line progress bar on stderr for terminals; plain lines when stderr is not a TTY (CI, logs). */
export interface Progress {
  update(label: string, fraction: number, detail?: string): void;
  line(text: string): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, width = 24): Progress {
  const tty = Boolean(stream.isTTY);
  let drawn = false;
  return {
    update(label, fraction, detail = '') {
      if (!tty) return;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${detail}\x1b[K`);
      drawn = true;
    },
    line(text) {
      if (drawn) stream.write('\r\x1b[K');
      stream.write(text + '\n');
      drawn = false;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
