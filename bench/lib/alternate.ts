/**
 * `count` samples of each of two things, alternating which goes first, so that a busier moment of a shared
 * machine does not favour either.
 */
export async function alternate(
  count: number,
  first: () => Promise<number>,
  second: () => Promise<number>,
): Promise<[number[], number[]]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      a.push(await first());
      b.push(await second());
    } else {
      b.push(await second());
      a.push(await first());
    }
  }
  return [a, b];
}
