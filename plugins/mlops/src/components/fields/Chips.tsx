import Chip from '@material-ui/core/Chip';

/** Short values (metrics, environments...) as chips, as the About card shows tags. */
export function Chips(props: { values: ReadonlyArray<string> }) {
  return (
    <div>
      {props.values.map(value => (
        <Chip key={value} label={value} size="small" />
      ))}
    </div>
  );
}
