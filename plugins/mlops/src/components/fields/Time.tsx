/** A point in time, machine-readable and in the reader's locale. */
export function Time(props: { value: number | string }) {
  const date = new Date(props.value);
  if (Number.isNaN(date.getTime())) {
    return <>{String(props.value)}</>;
  }
  return <time dateTime={date.toISOString()}>{date.toLocaleString()}</time>;
}
