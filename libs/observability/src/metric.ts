/** What every metric family can do: name itself and write its samples in the text format. */
export interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** The family's sample lines (without HELP/TYPE), in the text exposition format. */
  samples(): string[];
}
