import { mlopsPlugin } from './plugin';
import { mlopsApiRef } from './api';

describe('mlops', () => {
  it('is the mlops plugin and provides the mlops API', () => {
    expect(mlopsPlugin.getId()).toBe('mlops');
    expect([...mlopsPlugin.getApis()].map(factory => factory.api)).toEqual([
      mlopsApiRef,
    ]);
  });
});
