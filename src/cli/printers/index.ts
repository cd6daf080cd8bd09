/**
 * Chooses the printer for `-w/--write-out`.
 *
 * Must never: accept a format etcdctl does not know without saying so.
 */
import { CliExit, ExitCode } from '../exit.js';
import { FieldsPrinter } from './fields.js';
import { JsonPrinter } from './json.js';
import type { Format, Printer, PrinterOptions, PrinterSink } from './printer.js';
import { SimplePrinter } from './simple.js';
import { TablePrinter } from './table.js';

export function newPrinter(format: string, sink: PrinterSink, options: PrinterOptions): Printer {
  switch (format as Format) {
    case 'simple': return new SimplePrinter(sink, 'simple', options);
    case 'json': return new JsonPrinter(sink, 'json', options);
    case 'fields': return new FieldsPrinter(sink, 'fields', options);
    case 'table': return new TablePrinter(sink, 'table', options);
  }
  // etcdctl also has `protobuf` (raw protobuf bytes); HTTP+JSON gives no protobuf to print.
  throw new CliExit(ExitCode.BadFeature, 'unsupported output format');
}

export type { Printer, PrinterOptions, PrinterSink, Format } from './printer.js';
