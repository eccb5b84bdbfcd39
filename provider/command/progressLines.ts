import { StringDecoder } from "string_decoder";
import { MARK } from "./script";

/** Lines longer than this are not taken for progress marks (which are short); they pass on as they come. */
const LONGEST_MARK_LINE = 4096;

/**
 * Splits a script's stderr as it arrives: each whole line that starts with MARK.progress goes, without the mark, to
 * `report` as soon as its newline is in; everything else goes to `pass` unchanged (what a failure's error is read
 * from). Only the start of a line that may still turn out to be a mark is held back.
 */
export class ProgressLines {
  private readonly decoder = new StringDecoder("utf8");
  /** The start of the current line while it may be a progress mark. */
  private held = "";
  /** Inside a line already passed on as not a mark. */
  private passing = false;

  constructor(private readonly report: (line: string) => void, private readonly pass: (text: string) => void) {}

  write(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    for (let start = 0; start < text.length;) {
      const newline = text.indexOf("\n", start);
      const end = newline < 0 ? text.length : newline + 1;
      this.take(text.slice(start, end), newline >= 0);
      start = end;
    }
  }

  /** The stream ended: whatever is held is passed on. */
  end(): void {
    const rest = this.decoder.end();
    if (rest) this.take(rest, false);
    if (this.held) this.pass(this.held);
    this.held = "";
  }

  private take(piece: string, endsLine: boolean): void {
    if (this.passing) {
      this.pass(piece);
      this.passing = !endsLine;
      return;
    }
    const line = this.held + piece;
    this.held = "";
    const mayBeMark = line.length < MARK.progress.length ? MARK.progress.startsWith(line) : line.startsWith(MARK.progress);
    if (mayBeMark && endsLine) {
      this.report(line.slice(MARK.progress.length, -1));
    } else if (mayBeMark && line.length <= LONGEST_MARK_LINE) {
      this.held = line;
    } else {
      this.pass(line);
      this.passing = !endsLine;
    }
  }
}
