/** A command's answer: collected first, written after FAKE_DOCKER_DELAY_MS, as a slow daemon would answer. */
export class Answer {
  constructor() {
    this.stdout = '';
    this.stderr = '';
    this.code = 0;
  }
  out(text) {
    this.stdout += text.endsWith('\n') ? text : `${text}\n`;
  }
  err(text) {
    this.stderr += text.endsWith('\n') ? text : `${text}\n`;
  }
  /** One line each, under an optional table header. */
  lines(list, header) {
    for (const line of header === undefined ? list : [header, ...list]) this.out(line);
  }
  raw(stream, text) {
    this[stream] += text;
  }
}
