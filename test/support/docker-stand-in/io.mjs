/** A command's answer: collected first, written after FAKE_DOCKER_DELAY_MS, as a slow daemon would answer. */
export class Answer {
  constructor() {
    this.stdout = '';
    this.stderr = '';
    this.code = 0;
    /** `[stream, text]` in the order written: `docker logs` interleaves a container's two streams as printed. */
    this.chunks = [];
  }
  out(text) {
    this.raw('stdout', text.endsWith('\n') ? text : `${text}\n`);
  }
  err(text) {
    this.raw('stderr', text.endsWith('\n') ? text : `${text}\n`);
  }
  /** One line each, under an optional table header. */
  lines(list, header) {
    for (const line of header === undefined ? list : [header, ...list]) this.out(line);
  }
  raw(stream, text) {
    this[stream] += text;
    const last = this.chunks.at(-1);
    if (last && last[0] === stream) last[1] += text;
    else this.chunks.push([stream, text]);
  }
}
