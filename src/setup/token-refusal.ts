/**
 * Harness's refusals of a running delegate's token, as its log words them: `Delegate used invalid token`
 * (not a token of this account, or deleted: the delegate stops working), `… revoked token` and `… expired
 * token` (it is frozen and takes no tasks). A frozen delegate keeps its socket open, so its health
 * endpoint goes on answering: only the log tells.
 */
export type TokenRefusal = 'invalid' | 'revoked' | 'expired';

/** An extended regular expression, for grep on the VM as much as for the bot. */
export const REFUSAL_PATTERN = 'Delegate used (invalid|revoked|expired) token';

/** The refusal a delegate's log tells of, if any. */
export function refusalIn(log: string): TokenRefusal | undefined {
  return new RegExp(REFUSAL_PATTERN).exec(log)?.[1] as TokenRefusal | undefined;
}

const NEW_TOKEN =
  'create a delegate token in Harness (Account Settings → Account Resources → Delegates → Tokens), put it in DELEGATE_TOKEN_SECRET and run setup again';

/** Said wherever a probe shows the delegate's health: what Harness did, and what to do. */
export function describeRefusal(refusal: TokenRefusal): string {
  switch (refusal) {
    case 'invalid':
      return 'Harness refuses its token (not a token of this account, or deleted): put a valid token in DELEGATE_TOKEN_SECRET and run setup again';
    case 'revoked':
      return `Harness revoked its token, so it is frozen and takes no tasks: ${NEW_TOKEN}`;
    case 'expired':
      return `its token expired, so it is frozen and takes no tasks: ${NEW_TOKEN}`;
  }
}
