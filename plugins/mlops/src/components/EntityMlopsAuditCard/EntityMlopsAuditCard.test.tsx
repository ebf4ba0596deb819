import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { AuditEvent } from '@loopline/mlops-common';
import { wineQuality } from '../../__testUtils__/entities';
import { renderInCatalog } from '../../__testUtils__/render';
import { EntityMlopsAuditCard } from './EntityMlopsAuditCard';

const promotion: AuditEvent = {
  id: 12,
  entityRef: 'model:default/wine-quality',
  action: 'registry.stage.transition',
  actor: 'user:default/alice',
  createdAt: '2025-05-02T09:30:00.000Z',
  comment: 'Beats production on the hold-out set',
  details: { version: 3, to: 'Production' },
};

const registration: AuditEvent = {
  id: 11,
  entityRef: 'model:default/wine-quality',
  action: 'registry.version.create',
  actor: 'external:demo-ci',
  createdAt: '2025-05-01T18:00:00.000Z',
  details: {},
};

const rowTexts = () =>
  within(screen.getByRole('table', { name: 'Audit trail' }))
    .getAllByRole<HTMLTableRowElement>('row')
    .slice(1)
    .map(row => Array.from(row.cells, cell => cell.textContent));

describe('EntityMlopsAuditCard', () => {
  it('shows who did what to the entity, newest first', async () => {
    const getAuditEvents = jest
      .fn()
      .mockResolvedValue({ items: [promotion, registration] });
    await renderInCatalog(<EntityMlopsAuditCard />, {
      entity: wineQuality,
      mlopsApi: { getAuditEvents },
    });

    expect(getAuditEvents).toHaveBeenCalledWith({
      entityRef: 'model:default/wine-quality',
      limit: 20,
      before: undefined,
    });
    const [first, second] = rowTexts();
    expect(first.slice(1)).toEqual([
      'alice',
      'registry.stage.transitionversion: 3, to: Production',
      'Beats production on the hold-out set',
    ]);
    // Services are not catalog entities: named, not linked.
    expect(second.slice(1)).toEqual([
      'external:demo-ci',
      'registry.version.create',
      '',
    ]);
    expect(screen.getByRole('link', { name: 'alice' })).toHaveAttribute(
      'href',
      '/catalog/default/user/alice',
    );
    expect(screen.getAllByRole('row')[1].querySelector('time')).toHaveAttribute(
      'dateTime',
      '2025-05-02T09:30:00.000Z',
    );
    expect(
      screen.queryByRole('button', { name: 'Show older events' }),
    ).toBeNull();
  });

  it('loads older events page by page', async () => {
    const getAuditEvents = jest
      .fn()
      .mockResolvedValueOnce({ items: [promotion], nextCursor: 12 })
      .mockResolvedValueOnce({ items: [registration] });
    await renderInCatalog(<EntityMlopsAuditCard pageSize={1} />, {
      entity: wineQuality,
      mlopsApi: { getAuditEvents },
    });
    expect(rowTexts()).toHaveLength(1);

    await userEvent.click(
      screen.getByRole('button', { name: 'Show older events' }),
    );

    expect(getAuditEvents).toHaveBeenLastCalledWith({
      entityRef: 'model:default/wine-quality',
      limit: 1,
      before: 12,
    });
    expect(rowTexts().map(row => row[2])).toEqual([
      'registry.stage.transitionversion: 3, to: Production',
      'registry.version.create',
    ]);
    expect(
      screen.queryByRole('button', { name: 'Show older events' }),
    ).toBeNull();
  });

  it('says so when nothing has been recorded', async () => {
    await renderInCatalog(<EntityMlopsAuditCard />, {
      entity: wineQuality,
      mlopsApi: { getAuditEvents: async () => ({ items: [] }) },
    });

    expect(
      screen.getByText('Nothing has been recorded for this entity yet.'),
    ).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('shows why the trail could not be loaded', async () => {
    await renderInCatalog(<EntityMlopsAuditCard />, {
      entity: wineQuality,
      mlopsApi: {
        getAuditEvents: async () => {
          throw new Error('You may not read this entity');
        },
      },
    });

    const panel = screen.getByRole('alert');
    expect(panel).toHaveTextContent('Could not load the audit trail');
    expect(panel).toHaveTextContent('You may not read this entity');
    expect(screen.queryByRole('table')).toBeNull();
  });
});
