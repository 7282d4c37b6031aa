import type { Redis } from 'ioredis';

type Command = (this: Redis, ...args: Array<string | number>) => Promise<unknown>;

let defined = 0;

/**
 * A Lua script, defined on each connection it runs on with ioredis's `defineCommand`, which sends EVALSHA and
 * falls back to EVAL after a Redis restart or SCRIPT FLUSH. Scripts are how the run store makes check-then-set
 * atomic (the first click wins, one run per VM).
 */
export class LuaScript {
  private readonly name = `gitspacesScript${defined++}`;

  constructor(readonly source: string) {}

  run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    let command = (redis as unknown as Record<string, Command | undefined>)[this.name];
    if (command === undefined) {
      redis.defineCommand(this.name, { lua: this.source });
      command = (redis as unknown as Record<string, Command>)[this.name] as Command;
    }
    return command.call(redis, keys.length, ...keys, ...args);
  }
}
