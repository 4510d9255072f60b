import { ParserOptions } from "fast-csv";
// fast-csv's package index only offers stream parsers; its synchronous row parser lives here.
// The path is stable within fast-csv 5.x, which pins @fast-csv/parse to its own version.
import { Parser } from "@fast-csv/parse/build/src/parser/Parser.js";

/**
 * Splits CSV text into records and cells synchronously, with fast-csv's own row parser, so
 * that one log line costs no stream. The dialect is Umbrella's: `,` between cells, `"` quotes
 * doubled inside quoted cells, a BOM at the start dropped, blanks before an opening quote
 * skipped, a trailing CR or CRLF ending the record.
 */
export class CsvLineParser {
  private readonly parser = new Parser(new ParserOptions({ delimiter: ",", quote: '"' }));

  /**
   * The records of `text`: one for a log line, none for blank text. Throws fast-csv's Error
   * when a quoted cell is not closed or text follows a closing quote.
   */
  records(text: string): string[][] {
    return this.parser.parse(text, false).rows;
  }
}
