import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import ScatterPlotIcon from '@material-ui/icons/ScatterPlot';
import {
  createFormField,
  FormFieldBlueprint,
} from '@backstage/plugin-scaffolder-react/alpha';
import { mlopsApiRef, MlopsClient } from '../api';
import { rootRouteRef } from '../routes';
import { mlopsEntityCards } from './entityCards';
import { mlopsEntityContents } from './entityContents';

/** The client of the backend plugin, on the app's discovery and fetch APIs. */
const mlopsApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: mlopsApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new MlopsClient({ discoveryApi, fetchApi }),
    }),
});

/**
 * The ML overview at /ml. Its title and icon make the app's nav item (the
 * installed frontend-plugin-api has no NavItemBlueprint any more).
 */
const mlopsPage = PageBlueprint.make({
  params: {
    path: '/ml',
    title: 'ML',
    icon: <ScatterPlotIcon />,
    routeRef: rootRouteRef,
    // The page draws its own header ("Machine learning").
    noHeader: true,
    loader: () => import('../components/MlopsPage').then(m => <m.MlopsPage />),
  },
});

/**
 * Loopline's frontend plugin for the new frontend system:
 * `createApp({ features: [mlopsPlugin] })`, beside the catalog plugin.
 */
/** The scaffolder form field `MlopsTargetColumnPicker` (see the legacy export). */
const targetColumnFormField = FormFieldBlueprint.make({
  name: 'target-column',
  params: {
    field: () =>
      import('../components/TargetColumnPicker').then(m =>
        createFormField({
          name: 'MlopsTargetColumnPicker',
          component: m.TargetColumnPicker,
          validation: m.validateTargetColumn,
        }),
      ),
  },
});

/** The scaffolder form field `MlopsNamePicker` (see the legacy export). */
const nameFormField = FormFieldBlueprint.make({
  name: 'name',
  params: {
    field: () =>
      import('../components/NamePicker').then(m =>
        createFormField({
          name: 'MlopsNamePicker',
          component: m.NamePicker,
          validation: m.validateName,
        }),
      ),
  },
});

export const mlopsPlugin = createFrontendPlugin({
  pluginId: 'mlops',
  title: 'ML',
  icon: <ScatterPlotIcon />,
  routes: { root: rootRouteRef },
  extensions: [
    mlopsApi,
    mlopsPage,
    ...mlopsEntityCards,
    ...mlopsEntityContents,
    targetColumnFormField,
    nameFormField,
  ],
});
