/** An error as the daemon answers it: the CLI prints `Error response from daemon: <message>`. */
export class DaemonError extends Error {
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}

/** An error the CLI itself reports (`Error: No such object: x`, bad flags), printed as given. */
export class CliError extends Error {
  constructor(message, code = 1) {
    super(message);
    this.code = code;
  }
}
