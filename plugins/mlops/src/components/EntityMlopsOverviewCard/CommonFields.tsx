import { MlopsEntity } from '@loopline/mlops-common';
import { Field, SpecRefLinks } from '../fields';

/** The fields every ML kind shares: owner, lifecycle and system. */
export function CommonFields(props: { entity: MlopsEntity }) {
  const { owner, lifecycle, system } = props.entity.spec;
  return (
    <>
      <Field
        label="Owner"
        value={<SpecRefLinks refs={owner} defaultKind="Group" />}
      />
      <Field label="Lifecycle" value={lifecycle} />
      <Field
        label="System"
        value={system && <SpecRefLinks refs={system} defaultKind="System" />}
      />
    </>
  );
}
