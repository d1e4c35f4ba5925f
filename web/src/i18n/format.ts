// Numbers, sizes, speeds, durations and dates for a language, all through Intl.

const SIZE_UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

function scaled(value: number): { amount: number; unit: (typeof SIZE_UNITS)[number] } {
  let amount = Math.max(0, value);
  let index = 0;
  while (amount >= 1000 && index < SIZE_UNITS.length - 1) {
    amount /= 1000;
    index += 1;
  }
  return { amount, unit: SIZE_UNITS[index] };
}

/** 1 234 567 → "1.2 MB" (decimal units, as disks and networks count). */
export function formatBytes(bytes: number, lang: string): string {
  const { amount, unit } = scaled(bytes);
  return new Intl.NumberFormat(lang, {
    style: "unit",
    unit,
    unitDisplay: "short",
    maximumFractionDigits: unit === "byte" || amount >= 100 ? 0 : 1,
  }).format(amount);
}

/** Bytes per second → "3.4 MB/s". */
export function formatSpeed(bytesPerSecond: number, lang: string): string {
  const { amount, unit } = scaled(bytesPerSecond);
  return new Intl.NumberFormat(lang, {
    style: "unit",
    unit: `${unit}-per-second`,
    unitDisplay: "short",
    maximumFractionDigits: amount >= 100 || unit === "byte" ? 0 : 1,
  }).format(amount);
}

/** 0.425 → "43%" (or "43 %", "43%" as the language writes it). */
export function formatPercent(fraction: number, lang: string): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(
    clamped,
  );
}

/** Seconds → "1:02:03" or "2:03" (a media clock, digits in the language's numbering). */
export function formatClock(seconds: number, lang: string): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2, useGrouping: false });
  const one = new Intl.NumberFormat(lang, { useGrouping: false });
  return h > 0
    ? `${one.format(h)}:${two.format(m)}:${two.format(s)}`
    : `${one.format(m)}:${two.format(s)}`;
}

/** Seconds → "3 min" / "45 sec" / "2 hr" for remaining-time estimates. */
export function formatDuration(seconds: number, lang: string): string {
  const total = Math.max(0, Math.round(seconds));
  const [amount, unit] =
    total >= 3600
      ? [Math.round(total / 360) / 10, "hour"]
      : total >= 60
        ? [Math.round(total / 60), "minute"]
        : [total, "second"];
  return new Intl.NumberFormat(lang, {
    style: "unit",
    unit,
    unitDisplay: "short",
    maximumFractionDigits: 1,
  }).format(amount);
}

/** An ISO time → the language's medium date and short time. */
export function formatDate(iso: string, lang: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone,
  }).format(date);
}

/** Bits per second → "1.5 Mbps"-style label for a rendition's bandwidth. */
export function formatBitrate(bitsPerSecond: number, lang: string): string {
  const kilo = bitsPerSecond / 1000;
  const [amount, unit] = kilo >= 1000 ? [kilo / 1000, "megabit"] : [kilo, "kilobit"];
  return new Intl.NumberFormat(lang, {
    style: "unit",
    unit: `${unit}-per-second`,
    unitDisplay: "short",
    maximumFractionDigits: amount >= 10 ? 0 : 1,
  }).format(amount);
}
