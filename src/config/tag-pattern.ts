import { RE2JS } from 're2js';

/**
 * A tag regex as image-syncer reads it: Go's `regexp` syntax (RE2), matched unanchored (`MatchString`). RE2 is
 * not JavaScript's syntax: `[[:digit:]]`, `\Q…\E`, `\z`, `(?i)` and `(?P<name>…)` mean something in RE2 and are
 * errors or literal text in a JavaScript RegExp, while lookarounds and backreferences are JavaScript only. The
 * `re2js` package is a port of RE2 itself, so a pattern means here what it means in image-syncer; it also matches
 * in linear time, so no tag list and no pattern can make a match run away.
 * See https://github.com/google/re2/wiki/Syntax for the syntax.
 */
export class TagPattern {
  private constructor(
    /** The pattern as written (without the slashes of `/regex/`). */
    readonly source: string,
    private readonly re: RE2JS,
  ) {}

  /** Compiles `source` with RE2 syntax; throws `TagPatternError` naming RE2's reason. */
  static compile(source: string): TagPattern {
    try {
      return new TagPattern(source, RE2JS.compile(source));
    } catch (e) {
      throw new TagPatternError(source, (e as Error).message.replace(/^error parsing regexp: /, ''));
    }
  }

  /** A pattern matching exactly `tag` (a literal, anchored at both ends). */
  static exact(tag: string): TagPattern {
    const source = `^${RE2JS.quote(tag)}$`;
    return new TagPattern(source, RE2JS.compile(source));
  }

  /** Whether the pattern matches anywhere in `tag` (Go's `MatchString`). */
  test(tag: string): boolean {
    return this.re.matcher(tag).find();
  }

  toString(): string {
    return `/${this.source}/`;
  }
}

/** A tag regex that RE2 refuses; `reason` is RE2's own message (e.g. "missing closing ]: `[`"). */
export class TagPatternError extends Error {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`"${pattern}" is not a valid RE2 regular expression: ${reason}`);
    this.name = 'TagPatternError';
  }
}
