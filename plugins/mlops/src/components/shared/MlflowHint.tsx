import { CodeSnippet } from '@backstage/core-components';
import { discoveryApiRef, useApi } from '@backstage/core-plugin-api';
import Box from '@material-ui/core/Box';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';

/**
 * How to log runs and register versions of a model from training code with
 * the stock MLflow client, pointed at this backend.
 */
export function MlflowHint(props: { modelName: string }) {
  const discoveryApi = useApi(discoveryApiRef);
  const { value: baseUrl } = useAsync(
    () => discoveryApi.getBaseUrl('mlops'),
    [discoveryApi],
  );
  const trackingUri = `${baseUrl ?? '<backend>/api/mlops'}/mlflow`;
  const name = JSON.stringify(props.modelName);
  const text = [
    `export MLFLOW_TRACKING_URI=${trackingUri}`,
    '# A Backstage external-access token (backend.auth.externalAccess):',
    'export MLFLOW_TRACKING_TOKEN=<token>',
    '',
    'python - <<EOF',
    'import mlflow',
    `mlflow.set_experiment(${name})`,
    'with mlflow.start_run() as run:',
    '    mlflow.log_params({"alpha": 0.5})',
    '    mlflow.log_metric("rmse", 0.64)',
    '    mlflow.log_artifact("model.onnx", "model")',
    `mlflow.register_model(f"runs:/{run.info.run_id}/model", ${name})`,
    'EOF',
  ].join('\n');
  return (
    <Box maxWidth={720} textAlign="left">
      <Typography variant="body2" paragraph>
        Training code logs here with the MLflow client: set{' '}
        <code>MLFLOW_TRACKING_URI</code> to <code>{trackingUri}</code> and
        register the model under the name <code>{props.modelName}</code>.
      </Typography>
      <CodeSnippet text={text} language="bash" showCopyCodeButton />
    </Box>
  );
}
