import useAsync from 'react-use/esm/useAsync';
import { WarningPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  catalogApiRef,
  EntityKindFilter,
  useEntityList,
} from '@backstage/plugin-catalog-react';
import Card from '@material-ui/core/Card';
import CardActionArea from '@material-ui/core/CardActionArea';
import CardContent from '@material-ui/core/CardContent';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { MLOPS_KINDS } from '@loopline/mlops-common';

const useStyles = makeStyles(theme => ({
  list: {
    listStyle: 'none',
    padding: 0,
  },
  selected: {
    borderColor: theme.palette.primary.main,
  },
}));

const lower = (kind: string) => kind.toLocaleLowerCase('en-US');

/**
 * How many Models, Datasets and Pipelines the catalog holds; choosing one
 * sets the list's kind filter, as the kind picker does.
 */
export function KindSummary() {
  const classes = useStyles();
  const catalogApi = useApi(catalogApiRef);
  const { filters, updateFilters } = useEntityList();
  const { value: counts, error } = useAsync(async () => {
    const { facets } = await catalogApi.getEntityFacets({
      facets: ['kind'],
      filter: { kind: [...MLOPS_KINDS] },
    });
    return new Map(
      facets.kind.map(({ value, count }) => [lower(value), count]),
    );
  }, [catalogApi]);

  if (error) {
    return (
      <WarningPanel
        severity="error"
        title="Could not count the ML entities"
        message={error.message}
      />
    );
  }
  return (
    <Grid container spacing={3} component="ul" className={classes.list}>
      {MLOPS_KINDS.map(kind => {
        const selected = lower(filters.kind?.value ?? '') === lower(kind);
        return (
          <Grid item xs={12} sm={4} key={kind} component="li">
            <Card
              variant="outlined"
              className={selected ? classes.selected : undefined}
            >
              <CardActionArea
                aria-pressed={selected}
                onClick={() =>
                  updateFilters({
                    kind: new EntityKindFilter(lower(kind), kind),
                  })
                }
              >
                <CardContent>
                  <Typography variant="h3" component="p">
                    {counts ? counts.get(lower(kind)) ?? 0 : '…'}
                  </Typography>
                  <Typography color="textSecondary">{kind}s</Typography>
                </CardContent>
              </CardActionArea>
            </Card>
          </Grid>
        );
      })}
    </Grid>
  );
}
