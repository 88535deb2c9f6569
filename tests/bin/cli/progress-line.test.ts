/**
 * The text of `sluice get`'s progress line (`bin/cli/progress-line.ts`): sizes, rates, times,
 * one transfer's part and the whole line.
 */
import { expect } from 'chai';
import {
  formatBytes,
  formatDuration,
  formatElapsed,
  formatProgressLine,
  formatRate,
  formatTransfer,
  overwriteLine,
  type TransferFigures,
} from '../../../bin/cli/progress-line.js';

describe('progress line text', () => {
  describe('formatBytes', () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [512, '512 B'],
      [1023, '1023 B'],
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [307_200, '300.0 KiB'],
      [1024 * 1024 - 1, '1.0 MiB'], // 1023.999 KiB would read "1024.0 KiB"
      [12.34 * 1024 * 1024, '12.3 MiB'],
      [1.25 * 1024 ** 3, '1.25 GiB'],
      [3 * 1024 ** 4, '3.00 TiB'],
      [5000 * 1024 ** 4, '5000.00 TiB'],
    ];
    for (const [bytes, text] of cases)
      it(`writes ${bytes} as ${text}`, () => expect(formatBytes(bytes)).to.equal(text));
  });

  it('writes a rate per second', () => expect(formatRate(1.5 * 1024 * 1024)).to.equal('1.5 MiB/s'));

  describe('formatDuration (time left: m:ss, rounded up)', () => {
    const cases: [number, string][] = [
      [0, '0:00'],
      [0.2, '0:01'],
      [7, '0:07'],
      [59.5, '1:00'],
      [750, '12:30'],
      [3599, '59:59'],
      [3600, '1:00:00'],
      [3723, '1:02:03'],
    ];
    for (const [seconds, text] of cases)
      it(`writes ${seconds} s as ${text}`, () => expect(formatDuration(seconds)).to.equal(text));
  });

  describe('formatElapsed (time taken)', () => {
    const cases: [number, string][] = [
      [0.04, '0.0 s'],
      [0.35, '0.3 s'],
      [12.34, '12.3 s'],
      [59.96, '1:00'],
      [125.4, '2:05'],
    ];
    for (const [seconds, text] of cases)
      it(`writes ${seconds} s as ${text}`, () => expect(formatElapsed(seconds)).to.equal(text));
  });

  describe('formatTransfer', () => {
    const figures = (overrides: Partial<TransferFigures>): TransferFigures => ({
      direction: 'received',
      bytes: 153_600,
      total: 307_200,
      elapsedMs: 500,
      isDone: false,
      ...overrides,
    });
    const cases: { name: string; figures: TransferFigures; text: string }[] = [
      {
        name: 'a download half done, its length known',
        figures: figures({}),
        text: 'received 150.0 KiB of 300.0 KiB   50%  300.0 KiB/s  0:01 left',
      },
      {
        name: 'a finished download',
        figures: figures({ bytes: 307_200, elapsedMs: 1000, isDone: true }),
        text: 'received 300.0 KiB of 300.0 KiB  100%  300.0 KiB/s  in 1.0 s',
      },
      {
        name: 'a download of unknown length',
        figures: figures({ total: null }),
        text: 'received 150.0 KiB  300.0 KiB/s',
      },
      {
        name: 'a finished download of unknown length',
        figures: figures({ total: null, isDone: true }),
        text: 'received 150.0 KiB  300.0 KiB/s  in 0.5 s',
      },
      {
        name: 'an upload before any time has passed (no rate, time left unknown)',
        figures: figures({ direction: 'sent', bytes: 0, elapsedMs: 0 }),
        text: 'sent 0 B of 300.0 KiB    0%  --:-- left',
      },
      {
        name: 'more bytes than announced (the percentage stops at 100)',
        figures: figures({ bytes: 400_000 }),
        text: 'received 390.6 KiB of 300.0 KiB  100%  781.3 KiB/s  0:00 left',
      },
      {
        name: 'an empty body announced',
        figures: figures({ bytes: 0, total: 0, isDone: true }),
        text: 'received 0 B of 0 B  100%  0 B/s  in 0.5 s',
      },
    ];
    for (const { name, figures: input, text } of cases) it(name, () => expect(formatTransfer(input)).to.equal(text));
  });

  describe('formatProgressLine', () => {
    const upload: TransferFigures = { direction: 'sent', bytes: 1024, total: 1024, elapsedMs: 1000, isDone: true };
    const download: TransferFigures = {
      direction: 'received',
      bytes: 512,
      total: null,
      elapsedMs: 1000,
      isDone: false,
    };

    it('joins the upload and the download', () => {
      expect(formatProgressLine([upload, download])).to.equal(
        'sent 1.0 KiB of 1.0 KiB  100%  1.0 KiB/s  in 1.0 s  |  received 512 B  512 B/s',
      );
    });

    it('cuts the line one column short of the terminal width, so it never wraps', () => {
      expect(formatProgressLine([upload, download], 20)).to.equal('sent 1.0 KiB of 1.0');
      expect(formatProgressLine([download], 200)).to.equal('received 512 B  512 B/s');
    });
  });

  it('overwrites a longer previous line with spaces after a carriage return', () => {
    expect(overwriteLine('abc', 5)).to.equal('\rabc  ');
    expect(overwriteLine('abcdef', 3)).to.equal('\rabcdef');
  });
});
