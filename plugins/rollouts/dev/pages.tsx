import { useState } from 'react';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { Content, Header, Page } from '@backstage/core-components';
import { EntityRolloutCard } from '../src/plugin';
// The component, not the routable extension: the dev app mounts it inside its own page.
import { EntityRolloutsContent } from '../src/components/EntityRolloutsContent';
import { rolloutsDevScenarios } from './scenarios';
import { ScenarioProvider } from './ScenarioProvider';

function ScenarioCaption(props: { title: string; description: string }) {
  return (
    <>
      <Typography variant="h6" component="h2">
        {props.title}
      </Typography>
      <Typography variant="body2" color="textSecondary" paragraph>
        {props.description}
      </Typography>
    </>
  );
}

/** The overview card in every state, side by side. */
export function CardStatesPage() {
  return (
    <Page themeId="tool">
      <Header title="Rollouts card" subtitle="Every state, mocked backend" />
      <Content>
        <Grid container spacing={3}>
          {rolloutsDevScenarios.map(scenario => (
            <Grid
              item
              xs={12}
              md={6}
              key={scenario.id}
              component="section"
              aria-label={`scenario ${scenario.id}`}
            >
              <ScenarioCaption {...scenario} />
              <ScenarioProvider scenario={scenario}>
                <EntityRolloutCard />
              </ScenarioProvider>
            </Grid>
          ))}
        </Grid>
      </Content>
    </Page>
  );
}

/** The Deployment tab for one chosen state, where the actions (and their refusals) live. */
export function DeploymentTabPage() {
  const [id, setId] = useState('paused');
  const scenario =
    rolloutsDevScenarios.find(s => s.id === id) ?? rolloutsDevScenarios[0];
  return (
    <Page themeId="tool">
      <Header title="Deployment tab" subtitle="One state at a time" />
      <Content>
        <TextField
          select
          label="State"
          value={scenario.id}
          onChange={event => setId(event.target.value)}
          style={{ minWidth: 320, marginBottom: 16 }}
        >
          {rolloutsDevScenarios.map(s => (
            <MenuItem key={s.id} value={s.id}>
              {s.title}
            </MenuItem>
          ))}
        </TextField>
        <ScenarioCaption {...scenario} />
        {/* A new key per state: the tab's hooks start over instead of showing the last state. */}
        <ScenarioProvider key={scenario.id} scenario={scenario}>
          <EntityRolloutsContent />
        </ScenarioProvider>
      </Content>
    </Page>
  );
}
